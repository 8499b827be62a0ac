"""The summaries every evaluation reports (emo_common.stats)."""
import numpy as np
import pytest
from scipy import stats as sps

from emo_common.stats import paired, ratio_report, summary


def test_summary_is_mean_sd_sem_and_a_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0, np.nan])
    s = summary(x)
    assert s['n'] == 4 and s['mean'] == pytest.approx(3.5) and s['median'] == pytest.approx(3.0)
    assert s['sd'] == pytest.approx(np.std(x[:4], ddof=1)) and s['sem'] == pytest.approx(s['sd'] / 2)
    half = sps.t.ppf(0.975, 3) * s['sem']
    assert s['ci95'] == pytest.approx([3.5 - half, 3.5 + half])
    assert summary([])['mean'] is None


def test_paired_counts_and_tests_each_pair():
    a, b = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([2.0, 2.5, 3.5, 4.0, 6.5, 8.0])
    p = paired(a, b)
    assert (p['n'], p['better'], p['worse']) == (6, 5, 0)
    assert p['p'] == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert 'p' not in paired(a, a)                       # no difference: nothing to test


def test_ratio_report_counts_each_person_once():
    model = {'p1': [1.0, 1.0, 1.0, 1.0], 'p2': [2.0]}
    base = {'p1': [2.0, 2.0, 2.0, 2.0], 'p2': [2.0]}
    r = ratio_report(model, base)
    assert r['per_person'] == {'p1': 0.5, 'p2': 1.0} and r['mean'] == pytest.approx(0.75) and r['frames'] == 5
