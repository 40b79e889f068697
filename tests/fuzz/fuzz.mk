# fuzz.mk - the libFuzzer targets of tests/fuzz/, each a program
# build/fuzz/fuzz_<name>. tools/fuzz.sh builds them with
#     make -f tests/fuzz/fuzz.mk
# and runs them. They link the same core as the host tests (the Makefile's
# HSRC, built again with coverage instrumentation) but not the host test
# harness: harness.c gives them a panic hook that aborts.

FZ_BUILD  ?= build/fuzz
comma     := ,
PMAP      ?= x86_64              # the page-table format (mk/pmap-*.mk)
include mk/pmap-$(strip $(PMAP)).mk
FZ_CC     ?= clang
FZ_WARN   := -Wall -Wextra -Werror -Wno-unused-parameter
FZ_CFLAGS := -std=c17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
             -fno-sanitize-recover=all -fno-omit-frame-pointer $(FZ_WARN) \
             -Ikernel/include -Ikernel $(PMAP_INC) -Ikernel/arch/host/include \
             -DHOST_BUILD -MMD -MP
FZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
# Checkers, test doubles and the heap are not what the targets explore:
# without coverage instrumentation (sanitizers still on) the checks that
# run after every operation cost a fraction.
FZ_PLAIN  := kernel/vm/kmalloc.c kernel/vm/vm_space_check.c \
             kernel/lib/printf.c $(wildcard kernel/arch/host/*.c) \
             $(wildcard kernel/arch/host/$(strip $(PMAP))/*.c)
FZ_CFLAGS_PLAIN := $(subst fuzzer-no-link$(comma),,$(FZ_CFLAGS))

include mk/core.mk
FZ_CORE := $(HOST_CORE) \
           $(wildcard kernel/arch/host/*.c) $(PMAP_SRC) tests/fuzz/harness.c
FZ_OBJ  := $(patsubst %,$(FZ_BUILD)/obj/%.o,$(FZ_CORE))
FZ_BINS := $(patsubst tests/fuzz/%.c,$(FZ_BUILD)/%,\
                $(wildcard tests/fuzz/fuzz_*.c))
FZ_MAIN := $(patsubst $(FZ_BUILD)/%,$(FZ_BUILD)/obj/tests/fuzz/%.c.o,$(FZ_BINS))

.PHONY: fuzzers
fuzzers: $(FZ_BINS)

$(FZ_BUILD)/obj/%.c.o: %.c tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FZ_CC) $(if $(filter $<,$(FZ_PLAIN)),$(FZ_CFLAGS_PLAIN),$(FZ_CFLAGS)) \
		-c $< -o $@

$(FZ_BINS): $(FZ_BUILD)/%: $(FZ_BUILD)/obj/tests/fuzz/%.c.o $(FZ_OBJ)
	$(FZ_CC) $(FZ_CFLAGS) $(FZ_LDFLAGS) -o $@ $^

-include $(FZ_OBJ:.o=.d) $(FZ_MAIN:.o=.d)
