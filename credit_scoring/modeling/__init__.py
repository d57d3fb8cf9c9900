"""From features to the served model: training data and folds, the business cost, baselines, the tuned models,
the decision threshold, how sure the holdout figures are, the served bundle and the figures of these stages."""
