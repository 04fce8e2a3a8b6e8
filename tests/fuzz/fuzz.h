/* fuzz.h - what every libFuzzer target of tests/fuzz shares: the entry
 * point's prototype (-Wmissing-prototypes) and CHECK, which traps when an
 * invariant breaks so that libFuzzer saves the input. */
#ifndef KMS_FUZZ_H
#define KMS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond))                                                          \
      __builtin_trap();                                                   \
  } while (0)

#endif /* KMS_FUZZ_H */
