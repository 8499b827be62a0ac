# Emo coexpression stack. Two commands for a new user: `make demo`, `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eo pipefail -c
ROOT := $(CURDIR)
# Logs and ROS_HOME stay inside the build tree; DDS stays on loopback.
export ROS_HOME := $(ROOT)/build/ros_home
export ROS_LOG_DIR := $(ROOT)/build/ros_log
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST
export ROS_LOCALHOST_ONLY ?= 1
# ROS 2 distribution of the wheels: kilted (.venv, build/, install/) or jazzy (.venv-jazzy, build-jazzy/, install-jazzy/).
ROS_DISTRO ?= kilted
export ROS_DISTRO
ifeq ($(ROS_DISTRO),jazzy)
WS_SUFFIX := -jazzy
endif
ENV := source $(ROOT)/tools/env.sh
COLCON_BUILD := colcon build --base-paths src --event-handlers console_direct- summary+ \
	--build-base build$(WS_SUFFIX) --install-base install$(WS_SUFFIX)

.PHONY: setup build test test-colcon bench demo demo-bound evaluate table1 onset-timing self-model self-model-choice soak lock clean
# The simulated plant of `make demo`: real (as slow as a real head) | ideal (instant).
PLANT ?= real
# Real faces for `make evaluate` (not part of a clone; ONSETS=DIR to use another corpus).
ONSETS ?= ../shared/data/real_onsets

setup:
	tools/setup.sh

build: setup
	$(ENV)
	$(COLCON_BUILD)

test: build
	$(ENV)
	python -m pytest

# The same package tests the way a ROS 2 workspace runs them (each package alone, its test/conftest.py);
# the cross-package tests in tests/ run under `make test`.
test-colcon: build
	$(ENV)
	colcon test --base-paths src --event-handlers console_direct- summary+ \
		--build-base build$(WS_SUFFIX) --install-base install$(WS_SUFFIX)
	colcon test-result --verbose --test-result-base build$(WS_SUFFIX)

# Each job on its own DDS domain (a value in the environment wins), so two never hear each other.
demo: export ROS_DOMAIN_ID ?= 41
bench: export ROS_DOMAIN_ID ?= 42
evaluate: export ROS_DOMAIN_ID ?= 43
soak: export ROS_DOMAIN_ID ?= 44
demo-bound: export ROS_DOMAIN_ID ?= 45
onset-timing: export ROS_DOMAIN_ID ?= 46

# The main job: coexpression vs mimicry on the demo camera, simulated servos and head.
demo: build
	$(ENV)
	python -m emo_bringup.demo --out demo_out --plant $(PLANT)

# How early any predictor could make the robot arrive on the demo clip (oracles, offline and in the graph):
# results/demo_bound.json.
demo-bound: build
	$(ENV)
	python bench/demo_bound.py --graph

# Anticipation on real faces, leave-person-out: prints both protocols, writes results/anticipation.json.
evaluate: build
	$(ENV)
	python -m emo_prediction.training.evaluate --real "$(abspath $(ONSETS))" --out results

# The paper's Table 1 for the whole pipeline on real faces, leave-person-out: results/table1.json.
table1: build
	$(ENV)
	python -m emo_bringup.table1 --onsets "$(abspath $(ONSETS))" --out results/table1.json

# When the robot's face arrives on real people's expressions, leave-person-out, through the simulated
# plant (mimicry and each onset_face of the anticipator): results/onset_timing.json.
onset-timing: build
	$(ENV)
	python -m emo_bringup.onset_timing --onsets "$(abspath $(ONSETS))" --out results/onset_timing.json

# The shipped self-model on its own held-out babbling and on babbling from another seed, against
# baselines on equal terms: results/self_model/results.json, results/self_model_fresh/results.json.
self-model: build
	$(ENV)
	python -m emo_inverse.training.evaluate --out results/self_model
	python -m emo_inverse.training.babbling --samples 300 --seed 1 --lag-steps 0 --out build/babble_seed1.npz
	python -m emo_inverse.training.evaluate --test-data build/babble_seed1.npz --out results/self_model_fresh

# The self-model's widths and whole-face share by validation error and call cost (about 10 minutes):
# results/inverse_architecture.json.
self-model-choice: build
	$(ENV)
	python -m emo_inverse.training.architecture --out results/inverse_architecture.json

bench: build
	$(ENV)
	python bench/run.py

# The whole graph for SOAK_S seconds (default 600) with bus faults and hostile messages: results/soak.json.
soak: build
	$(ENV)
	python bench/soak.py

# Regenerate requirements/lock.txt from requirements/requirements.in in a scratch venv.
lock:
	tools/lock.sh

clean:
	rm -rf build install log build-jazzy install-jazzy
