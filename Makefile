# Perimeter: `make run` and `make test` are all a new user needs (see README.md).
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps configure build run test unit e2e lint format bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/perimeter serve

# Every test: formatting, unit, conformance, fuzz-corpus regression, integration and end-to-end,
# all registered with CTest so one runner reports them.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 300

lint: configure
	@git ls-files 'src/*.cc' | xargs -P $(JOBS) -n 4 clang-tidy -p $(BUILD) --quiet

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i --style=file

bench: build
	@PERIMETER_BENCH_DEPS=1 scripts/install-deps.sh
	./$(BUILD)/bench_access --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	./$(BUILD)/bench_kms --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	./$(BUILD)/bench_guard --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	./$(BUILD)/bench_audit --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	bash bench/run.sh

# Real libFuzzer binaries (clang); each runs for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= event_stream_fuzz sse_fuzz base64_fuzz request_parsers_fuzz sts_protocol_fuzz \
	sigv4_verify_fuzz kms_ciphertext_fuzz redact_tokens_fuzz guard_normalize_fuzz \
	guard_scanner_fuzz guard_config_fuzz apply_guardrail_fuzz
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DPERIMETER_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@# New inputs go to a scratch corpus (first directory); the committed seeds are only read.
	@for t in $(FUZZ_TARGETS); do n=$${t%_fuzz}; mkdir -p build-fuzz/corpus/$$n; echo "== $$t"; \
	  build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus/$$n fuzz/corpus/$$n || exit 1; done

clean:
	rm -rf $(BUILD) build-fuzz
