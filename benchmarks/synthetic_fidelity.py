"""Benchmark: how close the synthetic world is to Home Credit's, side by side with the measured facts.

Generates 60,000 + 10,000 clients (by default) and prints:
1. a two-sample test: 5-fold LightGBM AUC telling the 1,000 real rows of ``../shared/home_credit/sample/`` from
   1,000 generated rows, for application_train and each history table, with the columns it leans on
   (0.5: indistinguishable; target <= 0.65 on application_train, <= 0.75 on every history table);
2. each application column's univariate AUC against TARGET, generated beside real (fidelity.json; numbers on
   present rows with 365243 as missing, categories by out-of-fold target rate), the mean absolute error over
   the columns whose real AUC >= 0.54 (target <= 0.02) and the Spearman correlation over all (>= 0.8);
3. per table and family of joint facts (category cells, quantiles within categories, day orderings, amount
   ratios, rank correlations, joint missingness: ``credit_scoring.dataset.synthetic.fact_distance``) the
   distance of the 1,000-row real sample to the facts beside the generated rows' (target: no farther);
4. the facts' application-only LightGBM on 12,000 generated rows: its 5-fold AUC (target 0.745-0.765) and its
   mean |SHAP| ranking beside the one measured on real rows (Spearman over the real top 20 >= 0.7;
   PAYMENT_RATE and AMT_GOODS_PRICE in the top 10, DAYS_BIRTH in the top 15);
5. the AUC ladder on all generated clients (application; + bureau; + previous and card; all: the plain pandas
   recipe of ``../shared/benchmarks``; target +0.03 to +0.05), the Bayes AUC of the hidden probabilities on the
   same holdout (0.79-0.82) and the strongest history aggregates beside EXT_SOURCE_3.

Usage: python benchmarks/synthetic_fidelity.py [--n-clients 60000] [--n-test-clients 10000] [--seed 42]
       [--shared ../shared] [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from credit_scoring.dataset.schema import SENTINEL_DAYS, table, tables
from credit_scoring.dataset.synthetic import fact_distance, fidelity
from credit_scoring.dataset.synthetic.generate import generate

SEED = 0
LGB_TWO_SAMPLE = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20,
                  "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "verbose": -1, "n_jobs": 2}
LGB_SIGNAL = {"n_estimators": 2000, "learning_rate": 0.03, "num_leaves": 31, "min_child_samples": 100,
              "colsample_bytree": 0.3, "subsample": 0.8, "subsample_freq": 1, "reg_lambda": 5.0, "verbose": -1,
              "n_jobs": 2}
LGB_FACTS = {"n_estimators": 400, "learning_rate": 0.02, "num_leaves": 15, "colsample_bytree": 0.5,
             "subsample": 0.8, "subsample_freq": 1, "min_child_samples": 50, "reg_lambda": 5.0, "verbose": -1,
             "n_jobs": 2}  # the facts' application-only model (fidelity.json, application_only_model)
SIGNAL_FLOOR = 0.54  # columns whose real AUC reaches this carry the signal the MAE is taken over


def _frame_for_model(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids and target out; text columns as categories."""
    drop = [c for c in frame.columns if c.startswith("SK_ID") or c == "TARGET"]
    out = frame.drop(columns=drop)
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("str", "string"):
            out[c] = out[c].astype("category")
    return out


def two_sample(real: pd.DataFrame, fake: pd.DataFrame, seed: int = SEED) -> tuple[float, list[str]]:
    """Out-of-fold AUC of LightGBM telling ``real`` rows from ``fake`` ones, and its top columns by gain."""
    n = min(len(real), len(fake))
    both = pd.concat([real.sample(n, random_state=seed), fake.sample(n, random_state=seed)], ignore_index=True)
    x = _frame_for_model(both)
    for c in x.columns:
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            x[c] = pd.Categorical(x[c].astype(object), categories=sorted(x[c].dropna().astype(str).unique()))
    y = np.r_[np.ones(n), np.zeros(n)]
    oof = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        model = lgb.LGBMClassifier(**LGB_TWO_SAMPLE, random_state=seed).fit(x.iloc[train], y[train])
        oof[test] = model.predict_proba(x.iloc[test])[:, 1]
    model = lgb.LGBMClassifier(**LGB_TWO_SAMPLE, random_state=seed, importance_type="gain").fit(x, y)
    lean = pd.Series(model.feature_importances_, index=x.columns).sort_values(ascending=False)
    return roc_auc_score(y, oof), [c for c in lean.index[:4] if lean[c] > 0]


def univariate_auc(frame: pd.DataFrame, column: str, seed: int = SEED) -> float | None:
    """The facts' definition: numbers on present rows (365243 as missing), direction-free; categories by
    out-of-fold target rate (missing as a category of its own)."""
    y = frame["TARGET"].to_numpy()
    values = frame[column]
    if table("application_train").column(column).kind == "category":
        cats = values.astype(object).where(values.notna(), "<missing>").astype(str).to_numpy()
        score = np.zeros(len(y))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(cats, y):
            rates = pd.Series(y[train]).groupby(cats[train]).mean()
            score[test] = pd.Series(cats[test]).map(rates).fillna(y[train].mean()).to_numpy()
    else:
        score = values.to_numpy(dtype=float)
        if column == "DAYS_EMPLOYED":
            score = np.where(score == SENTINEL_DAYS, np.nan, score)
        present = ~np.isnan(score)
        if present.sum() < 100 or y[present].min() == y[present].max() or np.unique(score[present]).size < 2:
            return None
        y, score = y[present], score[present]
    auc = roc_auc_score(y, score)
    return max(auc, 1 - auc)


def _names(columns) -> list[str]:
    """Column names LightGBM accepts (one-hot names carry spaces, slashes and commas)."""
    return [re.sub(r"[^0-9A-Za-z_]", "_", str(c)) for c in columns]


def holdout_auc(x: pd.DataFrame, y: np.ndarray, seed: int = SEED) -> tuple[float, np.ndarray]:
    """LightGBM holdout AUC (20 %, stratified), early stopping on a slice of the training part."""
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.2, stratify=y, random_state=seed)
    fit, valid = train_test_split(train, test_size=0.15, stratify=y[train], random_state=seed)
    model = lgb.LGBMClassifier(**LGB_SIGNAL, random_state=seed)
    model.fit(x.iloc[fit], y[fit], eval_X=(x.iloc[valid],), eval_y=(y[valid],), eval_metric="auc",
              callbacks=[lgb.early_stopping(100, verbose=False)])
    return roc_auc_score(y[test], model.predict_proba(x.iloc[test])[:, 1]), test


def families_report(frames: dict[str, pd.DataFrame], sample_dir: Path, seed: int = SEED) -> None:
    """Per table and family: the 1,000-row real sample's distance to the facts (sampling noise), the generated
    rows' (all of them, and 1,000 of them), and whether the generator is no farther than the real sample."""
    print(f"{'table':<24}{'family':<19}{'n':>5}{'real 1,000':>12}{'generated':>11}{'gen 1,000':>11}  verdict")
    for name, t in tables().items():
        if name == "application_test":
            continue
        real = pd.read_csv(sample_dir / t.file, low_memory=False)
        fake = frames[name]
        small = fake.sample(min(len(real), len(fake)), random_state=seed)
        got_real = fact_distance.distances(real, name)
        got_fake = fact_distance.distances(fake, name)
        got_small = fact_distance.distances(small, name)
        for family, (d_real, n) in got_real.items():
            d_fake, d_small = got_fake[family][0], got_small[family][0]
            verdict = "ok" if d_fake <= d_real or np.isnan(d_real) else "farther"
            print(f"{name:<24}{family:<19}{n:>5}{d_real:>12.4f}{d_fake:>11.4f}{d_small:>11.4f}  {verdict}")


def facts_recipe(app: pd.DataFrame) -> pd.DataFrame:
    """The recipe of the facts' application-only model: application columns, DAYS_EMPLOYED's 365243 as
    missing, five ratios, one-hot categories with a missing level (named as the facts name them)."""
    x = app.drop(columns=["SK_ID_CURR", "TARGET"]).copy()
    x["DAYS_EMPLOYED"] = x["DAYS_EMPLOYED"].replace(SENTINEL_DAYS, np.nan)
    x["DAYS_EMPLOYED_PERC"] = x["DAYS_EMPLOYED"] / x["DAYS_BIRTH"]
    x["INCOME_CREDIT_PERC"] = x["AMT_INCOME_TOTAL"] / x["AMT_CREDIT"]
    x["INCOME_PER_PERSON"] = x["AMT_INCOME_TOTAL"] / x["CNT_FAM_MEMBERS"]
    x["ANNUITY_INCOME_PERC"] = x["AMT_ANNUITY"] / x["AMT_INCOME_TOTAL"]
    x["PAYMENT_RATE"] = x["AMT_ANNUITY"] / x["AMT_CREDIT"]
    cats = [c for c in x.columns if x[c].dtype == object or str(x[c].dtype) in ("str", "string", "category")]
    dummies = []
    for c in cats:
        values = x[c].astype(object).where(x[c].notna(), "nan").astype(str)
        d = pd.get_dummies(values, dtype=np.uint8)
        d.columns = [f"{c}_{re.sub(r'[^0-9A-Za-z]+', '_', str(v)).strip('_')}" for v in d.columns]
        dummies.append(d)
    out = pd.concat([x.drop(columns=cats), *dummies], axis=1)
    return out.loc[:, ~out.columns.duplicated()]


def application_only_report(app: pd.DataFrame, rows: int = 12_000, repeats: int = 3, seed: int = SEED) -> None:
    """5-fold AUC of the facts' application-only LightGBM on ``repeats`` disjoint samples of ``rows`` generated
    clients (at this size one sample's AUC moves by +-0.015), and its mean |SHAP| ranking (averaged over the
    samples) beside the one the facts measured on real rows."""
    model_facts = fidelity.facts()["application_only_model"]
    shuffled = app.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    aucs, shaps = [], []
    for k in range(min(repeats, len(shuffled) // rows) or 1):
        sample = shuffled.iloc[k * rows:(k + 1) * rows].reset_index(drop=True)
        x, y = facts_recipe(sample), sample["TARGET"].to_numpy()
        oof = np.zeros(len(y))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
            model = lgb.LGBMClassifier(**LGB_FACTS, random_state=seed).fit(x.iloc[train], y[train])
            oof[test] = model.predict_proba(x.iloc[test])[:, 1]
        aucs.append(roc_auc_score(y, oof))
        model = lgb.LGBMClassifier(**LGB_FACTS, random_state=seed).fit(x, y)
        contributions = model.booster_.predict(x, pred_contrib=True)[:, :-1]
        shaps.append(pd.Series(np.abs(contributions).mean(axis=0), index=x.columns))
    auc = float(np.mean(aucs))
    shap = pd.concat(shaps, axis=1).fillna(0.0).mean(axis=1).sort_values(ascending=False)
    rank = pd.Series(np.arange(1, len(shap) + 1), index=shap.index)
    real = pd.Series(model_facts["mean_abs_shap_top_40"])
    top20 = real.index[:20]
    rho = spearmanr(real.loc[top20].to_numpy(), shap.reindex(top20).fillna(0.0).to_numpy()).statistic
    print(f"5-fold AUC {auc:.3f} (mean of {len(aucs)} samples of {rows:,} rows: "
          f"{', '.join(f'{a:.3f}' for a in aucs)}; target 0.745-0.765; real {model_facts['auc_5_fold']:.3f} "
          f"on {model_facts['rows']:,} rows)")
    print(f"Spearman of mean |SHAP| over the real model's top 20: {rho:.2f} (target >= 0.7)")
    for column, most in (("PAYMENT_RATE", 10), ("AMT_GOODS_PRICE", 10), ("DAYS_BIRTH", 15)):
        place = int(rank.get(column, len(rank) + 1))
        print(f"  {column:<20} rank {place:>3} (target <= {most}; real {list(real.index).index(column) + 1})")
    print(f"{'rank':>4}  {'real model':<48}{'|SHAP|':>7}   {'generated model':<48}{'|SHAP|':>7}")
    for i in range(20):
        print(f"{i + 1:>4}  {real.index[i]:<48}{real.iloc[i]:>7.3f}   {shap.index[i]:<48}{shap.iloc[i]:>7.3f}")


LADDER = (
    ("application", ()),
    ("+ bureau", ("BURO_", "ACTIVE_", "CLOSED_")),
    ("+ previous, card", ("PREV_", "APPROVED_", "REFUSED_", "CC_")),
    ("all", ("POS_", "INSTAL_")),
)


def ladder_report(out: Path, app: pd.DataFrame, shared: Path) -> None:
    """Holdout AUC as the history tables are added (application; + bureau; + previous and card; all), the
    Bayes AUC of the hidden probabilities on the same holdout, and the strongest history aggregates."""
    y = app["TARGET"].to_numpy()
    reference = out / "reference.parquet"
    subprocess.run([sys.executable, str(shared / "benchmarks" / "pandas_reference_features.py"),
                    str(out / "csv"), str(reference)], check=True, capture_output=True)
    feats = pd.read_parquet(reference)
    feats = feats.loc[app["SK_ID_CURR"].to_numpy()].drop(columns=["TARGET"], errors="ignore").reset_index(drop=True)
    history_prefixes = tuple(p for _, group in LADDER for p in group)
    kept: list[str] = [c for c in feats.columns if not c.startswith(history_prefixes)]
    first, test_idx = None, None
    for step, prefixes in LADDER:
        kept += [c for c in feats.columns if prefixes and c.startswith(prefixes)]
        x = feats[kept].copy()
        x.columns = _names(x.columns)
        auc, test_idx = holdout_auc(x, y)
        first = auc if first is None else first
        gain = f"  ({auc - first:+.3f})" if step != "application" else ""
        print(f"  {step:<20}{auc:.3f}{gain}")
    print("  (real: all tables add +0.03 to +0.05 to the application table)")
    truth = pd.read_csv(out / "truth.csv").set_index("SK_ID_CURR")["PD"]
    bayes = roc_auc_score(y[test_idx], truth.loc[app["SK_ID_CURR"].to_numpy()[test_idx]])
    print(f"  Bayes (true PD)     {bayes:.3f} (target 0.79-0.82)")
    hist_aucs = {}
    for c in (c for c in feats.columns if c.startswith(history_prefixes) and feats[c].notna().sum() > 1000):
        v = feats[c].to_numpy(dtype=float)
        present = ~np.isnan(v)
        if np.unique(v[present]).size > 1:
            a = roc_auc_score(y[present], v[present])
            hist_aucs[c] = max(a, 1 - a)
    ext3 = univariate_auc(app, "EXT_SOURCE_3")
    print(f"  strongest history aggregates (univariate AUC on present rows; EXT_SOURCE_3 {ext3:.3f}, real: none "
          "above EXT_SOURCE_3, strongest near 0.61):")
    for c, a in sorted(hist_aucs.items(), key=lambda kv: -kv[1])[:5]:
        print(f"    {c:<40}{a:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-clients", type=int, default=60_000)
    parser.add_argument("--n-test-clients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    sample_dir = args.shared / "home_credit" / "sample"
    out = args.out or Path(tempfile.mkdtemp(prefix="synthetic-fidelity-"))
    start = time.perf_counter()
    generate(args.n_clients, args.n_test_clients, args.seed, out / "csv", out / "truth.csv", log=lambda *_: None)
    print(f"generated {args.n_clients:,} + {args.n_test_clients:,} clients in {time.perf_counter() - start:.0f} s")
    frames = {name: pd.read_csv(out / "csv" / t.file, low_memory=False) for name, t in tables().items()}

    print("\n1. Two-sample test: 5-fold LightGBM AUC, 1,000 real rows against 1,000 generated (0.5 = alike)")
    print(f"{'table':<24}{'AUC':>7}  columns it leans on")
    for name, t in tables().items():
        if name == "application_test":
            continue
        real = pd.read_csv(sample_dir / t.file, low_memory=False)
        auc, lean = two_sample(real, frames[name])
        target = 0.65 if name == "application_train" else 0.75
        verdict = "met" if auc <= target else "not met"
        print(f"{name:<24}{auc:>7.3f}  {', '.join(lean)}  (target <= {target}: {verdict})")

    print("\n2. Univariate AUC of each application column against TARGET: generated beside real")
    app = frames["application_train"]
    rows = []
    for column, spec in fidelity.facts()["application_train_signal"].items():
        got = univariate_auc(app, column)
        if got is not None:
            rows.append((column, got, fidelity.signal(column)["auc"], spec["se"]))
    table_ = pd.DataFrame(rows, columns=["column", "generated", "real", "real_se"]).sort_values("real", ascending=False)
    print(table_.head(30).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    informative = table_[table_["real"] >= SIGNAL_FLOOR]
    mae = (informative["generated"] - informative["real"]).abs().mean()
    rho = spearmanr(table_["generated"], table_["real"]).statistic
    print(f"mean absolute error over the {len(informative)} columns with real AUC >= {SIGNAL_FLOOR}: {mae:.3f} "
          f"(target <= 0.02); Spearman over all {len(table_)}: {rho:.2f} (target >= 0.8)")

    print("\n3. Joint structure: distance to each family of facts, real sample beside generated (0 = the facts)")
    families_report(frames, sample_dir)

    print("\n4. The application table alone at 12,000 rows (the facts' recipe, 5-fold) and what it learns")
    application_only_report(app)

    print("\n5. Signal ladder on all generated clients (LightGBM, 20 % holdout; the plain pandas recipe)")
    ladder_report(out, app, args.shared)
    print(f"\ntotal {time.perf_counter() - start:.0f} s; files in {out}" if args.out else
          f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
