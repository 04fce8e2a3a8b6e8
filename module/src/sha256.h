/* sha256.h - SHA-256 and HMAC-SHA256 for the signer (sha256.c): OpenSSL's
 * compression function, with the padding, the block batching and HMAC's
 * key states done here, so that a signature costs its blocks and little
 * else. Not part of the public ABI. */
#ifndef KMS_SHA256_H
#define KMS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KMSI_SHA256_LEN 32
#define KMSI_SHA256_BLOCK 64

/* The chaining value after a whole number of blocks. A state that has
 * absorbed a secret block (an HMAC key state) is as secret as the key. */
typedef struct kmsi_sha256_state {
  uint32_t h[8];
} kmsi_sha256_state;

/* An HMAC-SHA256 key as the states after its padded inner and outer
 * blocks: signing with it hashes only the message and one outer block.
 * As secret as the key: wipe it. */
typedef struct kmsi_hmac_key {
  kmsi_sha256_state inner;
  kmsi_sha256_state outer;
} kmsi_hmac_key;

/* The initial state. */
void kmsi_sha256_init(kmsi_sha256_state *s);

/* Absorbs nblocks whole 64-byte blocks of data into s. */
void kmsi_sha256_blocks(kmsi_sha256_state *s, const void *data,
                        size_t nblocks);

/* Finishes a hash that had absorbed done bytes (a multiple of 64) when it
 * was in state s: absorbs data[0..n), pads, writes the digest to out. s is
 * not changed, so a saved state can be finished many times. Every copy
 * of the message and of the state made here is wiped. */
void kmsi_sha256_finish(const kmsi_sha256_state *s, uint64_t done,
                        const void *data, size_t n,
                        unsigned char out[KMSI_SHA256_LEN]);

/* SHA-256 of data[0..n). */
void kmsi_sha256(const void *data, size_t n,
                 unsigned char out[KMSI_SHA256_LEN]);

/* Reduces key[0..klen) (hashed first when longer than a block) to its
 * inner and outer states. */
void kmsi_hmac_sha256_init(kmsi_hmac_key *k, const void *key, size_t klen);

/* HMAC-SHA256 of msg[0..n) under a key set up by kmsi_hmac_sha256_init. */
void kmsi_hmac_sha256_keyed(const kmsi_hmac_key *k, const void *msg,
                            size_t n, unsigned char out[KMSI_SHA256_LEN]);

/* HMAC-SHA256 of msg[0..n) under key[0..klen), in one go. A short key and
 * a short message (the SigV4 key derivation) cost two calls of two
 * blocks each. out may alias key or msg. */
void kmsi_hmac_sha256(const void *key, size_t klen, const void *msg,
                      size_t n, unsigned char out[KMSI_SHA256_LEN]);

#endif /* KMS_SHA256_H */
