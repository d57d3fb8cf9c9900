"""Synthetic Home Credit data, faithful to the Kaggle files, with a known default probability per client.

The eight CSVs have Kaggle's names, columns in Kaggle's order, kinds, category values, missing rates and
relations (``credit_scoring/dataset/home_credit_schema.json``), and follow what real rows show beyond those
(``credit_scoring/dataset/synthetic/home_credit_fidelity.json``, aggregates of real rows; see
credit_scoring/dataset/synthetic/fidelity.py):

- every numeric column follows its 101 measured percentiles, with its point masses exactly (round incomes,
  discrete region values, building grids) and its real grain;
- the application's categories are drawn together (``conditionals``: a sequence of conditionals raked on the
  measured category pairs, no job meaning no employer and no occupation), its numbers within their
  categories' measured quantiles, the rest through one Gaussian copula over the measured rank correlations;
  the amounts are tied as in the real file (credit = goods price / ratio, annuity = credit / term, with the
  revolving term of exactly 20); family size, employment, identity papers and building summaries follow the
  real file's rules (pensioners past the legal age, papers renewed at 20 and 45, median beside average);
- each history table's row is a joint model of its own facts (``rows``), then a credit file's accounting
  (``credit_files``: goods = application, the annuity at the measured price of credit, dates in their
  measured order, a card's balance under its limit, payments against the minimum due);
- missing values come in the measured blocks and say what they say in the real file (a missing EXT_SOURCE_1
  or building record goes with a higher default rate);
- the hidden true logit reads only what the application shows, with weights fitted on a calibration file as
  drawn so that each column's univariate AUC is the measured one (the external scores strongest) and the
  columns the real model leans on weigh of their own, plus a client-level history behaviour h that the
  application cannot show. The history tables reflect h through persistent client- and credit-level effects
  with row-level noise: no aggregate alone rivals the external scores, together they add a few AUC points.
  The true probability is written apart and is never an input of a model.

application_test is drawn from the test file's own measured percentiles, which reproduces the real
train -> test drift while the risk reads each value on the train scale.

Usage: ``python -m credit_scoring.dataset.synthetic --n-clients N --n-test-clients M --seed S --out DIR --truth FILE``.
"""
