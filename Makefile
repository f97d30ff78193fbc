bench:
	@command -v wrk >/dev/null || { echo "bench: apt-get install -y wrk nginx-light first"; exit 2; }
	pip install -q -e ".[bench]"
	python bench/run.py
	python bench/upload.py

.PHONY: bench
