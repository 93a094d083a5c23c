"""Forecasts of daily and hourly volume, with the model chosen by a backtest.

**Candidates.** ``seasonal_naive`` repeats the last week (the baseline any model must beat);
``poisson_regression`` is a Poisson GLM of the day's count on weekday dummies, the working
calendar (a holiday, a 调休 make-up working day, the first working day after a run of rest days,
when the backlog arrives), a linear trend and, once a year of history is there, yearly Fourier
terms (two harmonics); ``ets`` is additive Holt-Winters with a weekly season (it knows no
holidays, but follows level shifts faster). A Poisson GLM and not least squares on the counts
because volumes are counts whose noise grows with their level, and its forecasts are never
negative.

**Selection.** A rolling-origin backtest: ``folds`` times, fit on the history up to an origin
and forecast the ``horizon`` days after it, the origins ``horizon`` days apart and ending at the
last observed day. The model with the lowest mean sMAPE wins; its error and the seasonal-naive
error are reported side by side (MAPE skips days with no report, where it is undefined).

**Hours.** The hourly forecast is the daily forecast spread over the hours by the slice's own
hour-of-day profile over the last ``PROFILE_WEEKS`` weeks, one profile for working days and one
for rest days (top-down: an hourly model on sparse hourly counts is mostly noise). Its hourly
backtest is against the same hour a week earlier.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from chengguan.analytics.engines import Engine
from chengguan.analytics.metrics import Filters, Subject
from chengguan.analytics.volume import Split, day_kinds, hourly_series
from chengguan.errors import Invalid

WEEK = 7
HOURS = 24
REST = frozenset({"weekend", "holiday"})
WEEKEND = frozenset({5, 6})
MIN_HISTORY = 4 * WEEK  # a model fit needs four weeks; fewer: seasonal naive only
YEARLY_AFTER = 365  # yearly Fourier terms only once a whole year is in the history
HARMONICS = 2
BACKLOG_AFTER = 3  # rest days in a row after which the first working day is flagged
PROFILE_WEEKS = 8
ETS_WEEKS = 26
MAX_HORIZON = 92
MAX_SERIES = 50  # series per request: each is a backtest of three models (~1–2 s on this machine)
HISTORY_DAYS = 2 * 365 + 1  # what a lake forecast fits on: two years, for the yearly terms

Kinds = Mapping[dt.date, str]  # the working calendar's kind of each day: workday, makeup, weekend, holiday
Model = Callable[[np.ndarray, Sequence[dt.date], Sequence[dt.date], Kinds], np.ndarray]


def days_from(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def is_rest(day: dt.date, kinds: Kinds) -> bool:
    kind = kinds.get(day)
    return kind in REST if kind is not None else day.weekday() in WEEKEND


# -- the candidates ---------------------------------------------------------------------------


def seasonal_naive(y: np.ndarray, history: Sequence[dt.date], future: Sequence[dt.date], kinds: Kinds) -> np.ndarray:
    """Each future day takes the value of the same weekday in the last observed week."""
    last_week = y[-WEEK:]
    offset = (future[0] - history[-1]).days - 1  # future starts right after history: 0
    return np.array([last_week[(offset + i) % WEEK] for i in range(len(future))], dtype=float)


def _backlog(day: dt.date, kinds: Kinds) -> bool:
    if is_rest(day, kinds):
        return False
    before = (day - dt.timedelta(days=k) for k in range(1, BACKLOG_AFTER + 1))
    return all(is_rest(d, kinds) for d in before)


def design(days: Sequence[dt.date], kinds: Kinds, origin: dt.date, yearly: bool) -> np.ndarray:
    """The regression's columns for ``days``: constant, trend (years since ``origin``), weekday
    dummies (Tuesday … Sunday against Monday), holiday, make-up day, backlog day and, if
    ``yearly``, sine and cosine of the day of the year."""
    rows = []
    for d in days:
        weekday = [1.0 if d.weekday() == w else 0.0 for w in range(1, WEEK)]
        kind = kinds.get(d, "")
        calendar = [float(kind == "holiday"), float(kind == "makeup"), float(_backlog(d, kinds))]
        season = []
        if yearly:
            angle = 2 * math.pi * d.timetuple().tm_yday / 365.25
            season = [f(k * angle) for k in range(1, HARMONICS + 1) for f in (math.sin, math.cos)]
        rows.append([1.0, (d - origin).days / 365.25, *weekday, *calendar, *season])
    return np.array(rows)


def poisson_regression(
    y: np.ndarray, history: Sequence[dt.date], future: Sequence[dt.date], kinds: Kinds
) -> np.ndarray:
    if not y.any():
        return np.zeros(len(future))
    yearly = len(history) >= YEARLY_AFTER
    x = design(history, kinds, history[0], yearly)
    used = x.any(axis=0)  # a flag that never occurs in the history (no holiday yet) has no coefficient
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IRLS on a perfectly separated flag warns and still converges
        fit = sm.GLM(y, x[:, used], family=sm.families.Poisson()).fit()
    return np.asarray(fit.predict(design(future, kinds, history[0], yearly)[:, used]), dtype=float)


def ets(y: np.ndarray, history: Sequence[dt.date], future: Sequence[dt.date], kinds: Kinds) -> np.ndarray:
    """Fitted on the last ``ETS_WEEKS`` weeks: its level and season weigh recent weeks most
    anyway, and the optimiser's time grows with the length."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the optimiser's convergence notes on short series
        fit = ExponentialSmoothing(y[-ETS_WEEKS * WEEK :].astype(float), seasonal="add", seasonal_periods=WEEK).fit(
            use_brute=False
        )
    return np.clip(np.asarray(fit.forecast(len(future)), dtype=float), 0.0, None)


BASELINE = "seasonal_naive"
MODELS: dict[str, Model] = {BASELINE: seasonal_naive, "poisson_regression": poisson_regression, "ets": ets}


# -- errors and the backtest ------------------------------------------------------------------


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean symmetric absolute percentage error, 0–200 %; a day where both are 0 counts as 0."""
    denominator = np.abs(actual) + np.abs(predicted)
    safe = np.where(denominator == 0, 1.0, denominator)
    return float(np.mean(np.where(denominator == 0, 0.0, 200.0 * np.abs(predicted - actual) / safe)))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float | None:
    """Mean absolute percentage error over the days with a report (undefined at 0)."""
    seen = actual > 0
    if not seen.any():
        return None
    return float(np.mean(100.0 * np.abs(predicted[seen] - actual[seen]) / actual[seen]))


@dataclass(frozen=True)
class Score:
    model: str
    smape: float
    mape: float | None
    points: int


def origins(n: int, folds: int, horizon: int) -> list[int]:
    """Training lengths of the backtest folds: the last fold ends at the last observation, and
    every fold keeps at least ``MIN_HISTORY`` days to fit on."""
    return [n - k * horizon for k in range(folds, 0, -1) if n - k * horizon >= MIN_HISTORY]


def candidates(n: int) -> list[str]:
    return list(MODELS) if n >= MIN_HISTORY + WEEK else [BASELINE]


def backtest(
    y: np.ndarray, days: Sequence[dt.date], kinds: Kinds, folds: int, horizon: int
) -> tuple[list[Score], dict[str, list[np.ndarray]]]:
    """Every candidate's score over the folds, and its out-of-sample forecasts, fold by fold."""
    cuts = origins(len(y), folds, horizon)
    if not cuts:
        return [], {}
    predictions: dict[str, list[np.ndarray]] = {m: [] for m in candidates(len(y))}
    for c in cuts:
        for name in predictions:
            predictions[name].append(MODELS[name](y[:c], days[:c], days[c : c + horizon], kinds))
    truth = np.concatenate([y[c : c + horizon] for c in cuts])
    joined = {name: np.concatenate(p) for name, p in predictions.items()}
    scores = [Score(name, smape(truth, p), mape(truth, p), len(truth)) for name, p in joined.items()]
    return scores, predictions


def choose(scores: Sequence[Score]) -> str:
    """The lowest sMAPE; on a tie, the simpler model (the registry's order)."""
    if not scores:
        return BASELINE
    order = list(MODELS)
    return min(scores, key=lambda s: (round(s.smape, 9), order.index(s.model))).model


# -- hours ------------------------------------------------------------------------------------


def hour_profiles(hourly: np.ndarray, days: Sequence[dt.date], kinds: Kinds) -> dict[bool, np.ndarray]:
    """Share of a day's volume in each hour, for working days (False) and rest days (True), over
    the last ``PROFILE_WEEKS`` weeks; a kind of day absent there takes the profile of all days."""
    recent = slice(max(0, len(days) - PROFILE_WEEKS * WEEK), len(days))
    window, window_days = hourly[recent], days[recent]
    overall = _shares(window.sum(axis=0))
    out = {}
    for rest in (False, True):
        mask = np.array([is_rest(d, kinds) == rest for d in window_days], dtype=bool)
        totals = window[mask].sum(axis=0) if mask.any() else np.zeros(HOURS)
        out[rest] = _shares(totals) if totals.sum() > 0 else overall
    return out


def _shares(totals: np.ndarray) -> np.ndarray:
    total = totals.sum()
    return totals / total if total > 0 else np.full(HOURS, 1.0 / HOURS)


def spread_hours(
    daily: np.ndarray, future: Sequence[dt.date], profiles: Mapping[bool, np.ndarray], kinds: Kinds
) -> np.ndarray:
    """(days × 24) hourly forecast: each day's total over its kind's hour profile."""
    return np.array([total * profiles[is_rest(d, kinds)] for total, d in zip(daily, future, strict=True)])


# -- one series -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    model: str
    scores: list[Score]  # the backtest, every candidate
    days: list[dt.date]
    daily: np.ndarray  # expected count per future day
    hourly: np.ndarray | None  # (days × 24), when the history was hourly
    hourly_scores: list[Score]  # the chosen model spread over hours, against the same hour a week earlier


def check_horizon(horizon: int) -> int:
    if not 1 <= horizon <= MAX_HORIZON:
        raise Invalid(f"horizon must be 1–{MAX_HORIZON} days / 预测天数超出范围", field="horizon")
    return horizon


def forecast(
    hourly: np.ndarray, start: dt.date, kinds: Kinds, horizon: int, folds: int = 4, fold_days: int = WEEK
) -> Forecast:
    """Forecast the ``horizon`` days after a history of (days × 24) hourly counts starting on
    ``start``; the model is the backtest's winner (folds of ``fold_days`` days)."""
    check_horizon(horizon)
    if len(hourly) < WEEK:
        raise Invalid("a forecast needs at least a week of history / 预测至少需要一周历史数据", field="start")
    days = days_from(start, len(hourly))
    y = hourly.sum(axis=1)
    scores, folds_predicted = backtest(y, days, kinds, folds, fold_days)
    model = choose(scores)
    future = days_from(days[-1] + dt.timedelta(days=1), horizon)
    daily = MODELS[model](y, days, future, kinds)
    profiles = hour_profiles(hourly, days, kinds)
    return Forecast(
        model,
        scores,
        future,
        daily,
        spread_hours(daily, future, profiles, kinds),
        hourly_backtest(hourly, days, kinds, model, folds_predicted.get(model, []), fold_days),
    )


def hourly_backtest(
    hourly: np.ndarray, days: Sequence[dt.date], kinds: Kinds, model: str, daily: Sequence[np.ndarray], horizon: int
) -> list[Score]:
    """The chosen model's backtest forecasts (``daily``, fold by fold) spread over the hours by
    the profile of each fold's training weeks, against the seasonal-naive hour (the same hour a
    week before)."""
    cuts = origins(len(days), len(daily), horizon)
    if not cuts:
        return []
    ours, naive, truth = [], [], []
    for c, predicted in zip(cuts, daily, strict=True):
        future = days[c : c + horizon]
        ours.append(spread_hours(predicted, future, hour_profiles(hourly[:c], days[:c], kinds), kinds).ravel())
        naive.append(np.array([hourly[c - WEEK + (i % WEEK)] for i in range(len(future))]).ravel())
        truth.append(hourly[c : c + horizon].ravel())
    actual = np.concatenate(truth)
    return [
        Score(name, smape(actual, p), mape(actual, p), len(actual))
        for name, p in ((f"{model}+profile", np.concatenate(ours)), (BASELINE, np.concatenate(naive)))
    ]


# -- from the lake ----------------------------------------------------------------------------


def from_lake(
    engine: Engine, subject: Subject, filters: Filters, split: Split, today: dt.date, horizon: int
) -> dict[tuple[str, str], Forecast]:
    """Forecast each area × category of the slice for the ``horizon`` days from ``today``, on the
    history up to yesterday (today is not complete). Each series is fitted from its first report
    on (the zeros before it are not history); one with less than a week of it is left out."""
    check_horizon(horizon)
    first = today - dt.timedelta(days=HISTORY_DAYS)
    history = Filters(
        start=first, end=today, area_path=filters.area_path, category=filters.category, source=filters.source
    )
    series = hourly_series(engine, subject, history, split)
    if len(series) > MAX_SERIES:
        raise Invalid(
            f"{len(series)} series: narrow the slice (at most {MAX_SERIES}) / 序列过多，请缩小范围", field="area_by"
        )
    kinds = day_kinds(engine, first, today + dt.timedelta(days=horizon))
    out = {}
    for key, hourly in series.items():
        begins = int(np.argmax(hourly.sum(axis=1) > 0))
        if len(hourly) - begins >= WEEK:
            out[key] = forecast(hourly[begins:], first + dt.timedelta(days=begins), kinds, horizon)
    return out
