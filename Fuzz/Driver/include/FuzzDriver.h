#ifndef PARLEY_FUZZ_DRIVER_H
#define PARLEY_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for programs with a main of their own (in libclang_rt.fuzzer, linked by
/// -sanitize=fuzzer). SwiftPM links every executable's main itself, so each target's @main
/// hands its arguments and its callback to libFuzzer through this.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
