import json

import numpy as np

from medxai.audit.verdict import ShortcutRule, shortcut_verdict


def test_verdict_names_a_shortcut_only_when_both_parts_hold():
    rng = np.random.default_rng(0)
    big_drop = 0.5 + 0.05 * rng.standard_normal(30)
    no_drop = 0.01 * rng.standard_normal(30)
    on_cast = {"cam": np.full(30, 0.3), "pcam±": np.full(30, 0.2)}
    one_on_cast = {"cam": np.full(30, 0.01), "pcam±": np.full(30, 0.2)}
    off_cast = {"cam": np.full(30, 0.01), "pcam±": np.full(30, 0.0)}
    assert shortcut_verdict(big_drop, on_cast).shortcut
    assert not shortcut_verdict(no_drop, on_cast).shortcut
    assert not shortcut_verdict(big_drop, off_cast).shortcut
    assert shortcut_verdict(big_drop, one_on_cast).shortcut
    strict = ShortcutRule(require_all_methods=True)
    assert not shortcut_verdict(big_drop, one_on_cast, strict).shortcut
    assert shortcut_verdict(big_drop, on_cast, strict).shortcut


def test_verdict_thresholds_and_json():
    drops = np.full(10, 0.2)
    excess = {"cam": np.full(10, 0.1)}
    assert shortcut_verdict(drops, excess, ShortcutRule(min_drop=0.15)).shortcut
    verdict = shortcut_verdict(drops, excess, ShortcutRule(min_drop=0.25))
    assert not verdict.shortcut
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["drop"]["mean"] == 0.2 and data["rule"]["min_drop"] == 0.25
    assert len(data["reasons"]) == 2
    assert "0.25" in verdict.rule.describe()


def test_verdict_without_data_is_no_shortcut():
    assert not shortcut_verdict(np.zeros(0), {"cam": np.zeros(0)}).shortcut
