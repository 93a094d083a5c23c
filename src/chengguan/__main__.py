from chengguan.cli import main

main()
