"""chengguan — 城市管理综合执法大数据平台 (city management and comprehensive law enforcement)."""

__version__ = "0.1.0"
