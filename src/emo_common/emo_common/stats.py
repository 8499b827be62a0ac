"""Summaries the figures are reported with: mean, SD, SEM, 95% CI, per person, paired tests (every package's
evaluations use these)."""
import numpy as np
from scipy import stats


def summary(values) -> dict:
    """n, mean, SD, SEM, t-based 95% CI and median of a sample."""
    e = np.asarray(values, dtype=np.float64)
    e = e[np.isfinite(e)]
    if len(e) == 0:
        return {'n': 0, 'mean': None, 'sd': None, 'sem': None, 'ci95': [None, None], 'median': None}
    sem = float(stats.sem(e)) if len(e) > 1 else float('nan')
    half = float(stats.t.ppf(0.975, len(e) - 1) * sem) if len(e) > 1 else float('nan')
    return {'n': int(len(e)), 'mean': float(e.mean()), 'sd': float(e.std(ddof=1)) if len(e) > 1 else 0.0,
            'sem': sem, 'ci95': [float(e.mean() - half), float(e.mean() + half)], 'median': float(np.median(e))}


def paired(a, b) -> dict:
    """Paired t-test and Wilcoxon signed-rank test of a against b (same units, same order)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    out = {'n': int(len(a)), 'better': int((a < b).sum()), 'worse': int((a > b).sum())}
    if len(a) > 1 and np.any(a != b):
        t = stats.ttest_rel(a, b)
        out['t'], out['p'] = float(t.statistic), float(t.pvalue)
        try:
            w = stats.wilcoxon(a, b)
            out['wilcoxon_p'] = float(w.pvalue)
        except ValueError:
            pass
    return out


def ratio_report(model_by_person: dict, base_by_person: dict) -> dict:
    """Per person: mean model error / mean baseline error over the same frames; their summary over
    people (each person counts once); the paired test of the people's mean errors."""
    people = sorted(p for p in model_by_person if len(model_by_person[p]) and np.mean(base_by_person[p]) > 0)
    m = np.array([np.mean(model_by_person[p]) for p in people])
    b = np.array([np.mean(base_by_person[p]) for p in people])
    ratios = m / b if len(people) else np.array([])
    out = summary(ratios)
    out['per_person'] = {p: round(float(r), 4) for p, r in zip(people, ratios)}
    out['frames'] = int(sum(len(model_by_person[p]) for p in people))
    out['paired_vs_baseline'] = paired(m, b)
    return out
