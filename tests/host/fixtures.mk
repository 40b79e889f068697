# fixtures.mk - real binaries and archives for the host tests, built at
# build time from tests/host/fixtures/ by tests/host/mkfixtures.sh (never
# committed). The Makefile includes this file after its own rules.
#
# Host tests look for them in $MERCATOR_FIXTURES if set, else in
# build/fixtures beside the test program (<bin>/../../fixtures), else in
# ./build/fixtures; a missing fixture fails the test that needs it.

BUILD   ?= build
FIXDIR  := $(BUILD)/fixtures
FIXSTAMP := $(FIXDIR)/.stamp
FIXSRC  := tests/host/mkfixtures.sh $(wildcard tests/host/fixtures/*.c)

.PHONY: fixtures
fixtures: $(FIXSTAMP)

$(FIXSTAMP): $(FIXSRC)
	bash tests/host/mkfixtures.sh $(FIXDIR)
	@touch $@

host-tests: fixtures
