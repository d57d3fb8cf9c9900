"""``python -m credit_scoring.dataset.synthetic``: write a synthetic data set (see
`credit_scoring.dataset.synthetic.generate`)."""

from credit_scoring.dataset.synthetic.generate import main

main()
