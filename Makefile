# f0mesh — front door. `make demo` and `make test` install what is missing, build, and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= $(ASAN_BUILD)
JOBS       ?= $(shell nproc)
SCALE      ?=
FUZZ_SECONDS ?= 15

BENCH_LINKS ?= 1000

.PHONY: demo-sets bench-instances image test-container build-types deb test-deb test-natlab bench-sim bench-registry test-abuse-long test-sim test-interop-big web bench-web bench-crdt bench-gossip bench-worker all deps npm build asan test test-asan test-long test-fast demo bench-rtc bench-rtc-vs fuzz fuzz-short fuzz-long format format-check clean help

all: build

help:
	@echo "make demo          install deps, build, run the loopback DataChannel demo"
	@echo "make demo-sets     a peer served by three workers; one is killed and its links move"
	@echo "make test          install deps, build (release + ASan/UBSan), run every test, short fuzz"
	@echo "make test-asan     every test in the ASan/UBSan tree (make test leaves the browser tests out there)"
	@echo "make bench-rtc     DataChannel benchmarks (SCALE=500 adds the 1000-connection run)"
	@echo "make bench-rtc-vs  the same side by side with libdatachannel; writes docs/BENCHMARKS.md"
	@echo "make bench-web     dashboard: bundle, load time, 200 live links, 1,000 peers / 5,000 links; screenshots in docs/screenshots"
	@echo "make bench-crdt    automerge-paper trace: text RGA vs Yjs and Automerge; writes docs/BENCHMARKS.md"
	@echo "make bench-gossip  gossip simulator, 100 / 1,000 / 10,000 peers; writes docs/BENCHMARKS.md"
	@echo "make bench-instances several workers per peer: spread and SIGKILL failover; writes docs/BENCHMARKS.md"
	@echo "make bench-worker  worker benchmarks: dial time, /healthz req/s, QoS cost and RSS with 1,000 idle links"
	@echo "make bench-sim     the 200-node whole-mesh simulation, 5 seeds; writes docs/BENCHMARKS.md"
	@echo "make test-abuse-long the attack suite at full scale (2,000 readers, 5,000 connections, 1,000 offers)"
	@echo "make bench-registry 100,000 registrations at one worker, then a joiner learns them; writes docs/BENCHMARKS.md"
	@echo "make test-long     CRDT property tests with 10,000 random schedules per type"
	@echo "make test-sim      the whole-mesh simulation over SEEDS=50 seeds"
	@echo "make test-interop-big the werift interop matrix with 16 MiB messages (make test stops werift at 1 MiB)"
	@echo "make test-natlab   the NAT lab: every NAT kind checked, then the whole grid (root); writes the table to $(BUILD)/natlab-grid.md"
	@echo "make fuzz-long     every fuzz target for 10 minutes each"
	@echo "make build-types   Debug, RelWithDebInfo, MinSizeRel with GCC and Release with clang, warning-free"
	@echo "make deb           the Debian package (Release, /usr) in $(DEB_BUILD)/"
	@echo "make test-deb      install the package in a clean Debian 12 root, run the worker, purge"
	@echo "make image         the container image (podman, Debian 12 base from the apt mirror) localhost/f0mesh"
	@echo "make test-container three worker containers on a podman network: full mesh, QoS, kill and restart"
	@echo "make format        clang-format the sources"

deps:
	@bash scripts/install-deps.sh

npm: deps
	@bash scripts/npm-install.sh

web: deps
	@bash scripts/build-web.sh

# Release, as the package is built: make test then checks that it builds warning-free (-Werror).
build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# One clang tree for the sanitizers and the fuzz targets: the tests and the fuzz targets share its
# objects (cmake/Warnings.cmake), so make test compiles the project twice, not three times.
ASAN_CONFIGURE = CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	-DF0_SANITIZE=ON -DF0_FUZZ=ON -DF0_BENCH=OFF

asan: deps
	$(ASAN_CONFIGURE)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The release ctest runs while the ASan+UBSan tree compiles (scripts/test-phases.sh).
test: build npm web format-check
	BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) MAKE="$(MAKE)" bash scripts/test-phases.sh

# Every test in the ASan+UBSan tree, the browser tests included (make test leaves those out there).
test-asan: asan npm web
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 --timeout 600

test-long: build
	F0_PROPERTY_SCHEDULES=10000 $(BUILD)/tests/unit/f0_unit_tests --gtest_filter='CrdtProperty.*'

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j 2 -L "unit|layer|sim"

# The NAT lab's whole grid (make test runs a few cells of it). Root: network namespaces.
test-natlab: build
	/usr/bin/python3 tests/natlab/test_nat_kinds.py
	F0MESH=$(BUILD)/src/cli/f0mesh /usr/bin/python3 tests/natlab/test_keepalive.py
	F0MESH=$(BUILD)/src/cli/f0mesh /usr/bin/python3 tests/natlab/test_qos_lab.py
	F0MESH=$(BUILD)/src/cli/f0mesh /usr/bin/python3 tests/natlab/test_path_breaks.py
	F0MESH=$(BUILD)/src/cli/f0mesh F0_NATLAB_FULL=1 F0_NATLAB_TABLE=$(BUILD)/natlab-grid.md /usr/bin/python3 tests/natlab/test_grid.py

# The interop matrix with werift's 16 MiB messages (make test stops werift at 1 MiB: on a loaded
# machine werift can stop answering ICE checks while it moves one). Run it on a quiet machine.
test-interop-big: build npm
	cd $(BUILD)/tests/interop && node $(CURDIR)/tests/interop/matrix.mjs $(CURDIR)/$(BUILD)/src/cli/f0mesh $(CURDIR)/$(BUILD)/tests/interop/f0-rtc-peer werift

# The whole-mesh simulation over many seeds (make test runs one seed per test).
SEEDS ?= 50
test-sim: build
	F0_LOG_LEVEL=warn F0_SIM_SEEDS=$(SEEDS) $(BUILD)/tests/sim/f0_sim_tests

# Every other build type with GCC, and Release with clang, each warning-free (-Werror); the clang
# build without precompiled headers, so that a missing #include still shows somewhere.
TYPES_BUILD ?= build-types
build-types: deps
	for t in Debug RelWithDebInfo MinSizeRel; do \
	  cmake -S . -B $(TYPES_BUILD)/gcc-$$t -G Ninja -DCMAKE_BUILD_TYPE=$$t && \
	  cmake --build $(TYPES_BUILD)/gcc-$$t -j $(JOBS) || exit 1; done
	CC=clang CXX=clang++ cmake -S . -B $(TYPES_BUILD)/clang-Release -G Ninja -DCMAKE_BUILD_TYPE=Release -DF0_PCH=OFF
	cmake --build $(TYPES_BUILD)/clang-Release -j $(JOBS)

# The Debian package: a Release tree installed under /usr, packed by CPack.
DEB_BUILD ?= build-deb
deb: deps web
	cmake -S . -B $(DEB_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DF0_TESTS=OFF -DF0_BENCH=OFF
	cmake --build $(DEB_BUILD) -j $(JOBS) --target f0mesh
	cd $(DEB_BUILD) && cpack -G DEB
	@ls -l $(DEB_BUILD)/*.deb

# The package installed, run and purged in a clean Debian 12 root (root: mmdebstrap, chroot).
test-deb: deb
	/usr/bin/python3 tests/package/test_deb.py $(DEB_BUILD)
	@bash scripts/install-deps.sh --containers
	/usr/bin/python3 tests/package/test_deb_systemd.py $(DEB_BUILD)

# The container image (root: mmdebstrap, podman). IMAGE_BUILD keeps the base root and the context.
IMAGE_BUILD ?= build-image
image: web
	@bash scripts/install-deps.sh --containers
	bash scripts/build-image.sh $(IMAGE_BUILD)

test-container: image
	/usr/bin/python3 tests/package/test_container.py $(IMAGE_BUILD)

# A peer served by three workers (issue 17) beside four ordinary peers; one instance is killed.
demo-sets: build web
	/usr/bin/python3 scripts/demo_sets.py $(BUILD)/src/cli/f0mesh $(BUILD)/demo-sets

demo: build web
	$(BUILD)/src/cli/f0mesh demo --data-dir $(BUILD)/demo-data

bench-rtc: build
	$(BUILD)/bench/f0-bench-rtc all $(if $(SCALE),&& $(BUILD)/bench/f0-bench-rtc scale $(SCALE))

bench-web: build npm web
	node tests/interop/dashboard_synthetic.mjs bench
	node tests/interop/dashboard_mesh.mjs bench docs/screenshots
	node tests/interop/dashboard_demo_mesh.mjs $(BUILD)/src/cli/f0mesh docs/screenshots

bench-crdt: build npm
	bash scripts/bench-crdt.sh $(BUILD)

bench-gossip: build
	bash scripts/bench-gossip.sh $(BUILD)

bench-sim: build
	bash scripts/bench-sim.sh $(BUILD)

test-abuse-long: build
	F0_ATTACK_SCALE=full F0MESH=$(BUILD)/src/cli/f0mesh /usr/bin/python3 tests/worker/test_attack.py
	F0_ATTACK_SCALE=full F0MESH=$(BUILD)/src/cli/f0mesh /usr/bin/python3 tests/worker/test_identity.py

bench-registry: build
	/usr/bin/python3 bench/registry_bench.py $(BUILD) $(or $(N),100000)

bench-worker: build
	/usr/bin/python3 bench/worker_bench.py $(BUILD) $(BENCH_LINKS)

bench-instances: build
	/usr/bin/python3 bench/instances_bench.py $(BUILD) 3

bench-rtc-vs: build npm
	bash scripts/bench-rtc-vs.sh $(BUILD) $(SCALE)

fuzz: deps
	$(ASAN_CONFIGURE)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_sdp fuzz_dcep fuzz_envelope fuzz_api fuzz_probe fuzz_gossip fuzz_crdt fuzz_link

fuzz-short: fuzz
	bash scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-long: fuzz
	bash scripts/run-fuzz.sh $(FUZZ_BUILD) 600

SOURCES = git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp'

format:
	$(SOURCES) | xargs clang-format -i

format-check:
	@$(SOURCES) | xargs clang-format --dry-run --Werror && echo "format: clean"
	@/usr/bin/python3 scripts/check-tests.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-fuzz
