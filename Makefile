bench:
	python bench/run.py

.PHONY: bench
