/*
 * pool.h - size-class block allocator for message blocks.
 *
 * Messages are allocated and freed at message rate, often on different
 * threads (a producer allocates, a kernel frees). Each thread keeps a small
 * cache per power-of-two class; caches overflow into and refill from a shared
 * depot in batches, so after warm-up the hot path never calls malloc.
 * rk_pool_sys_allocs() counts the blocks ever taken from malloc: a test reads
 * it before and after steady-state traffic to prove the path is allocation-free.
 */
#ifndef RK_POOL_H
#define RK_POOL_H

#include <stddef.h>
#include <stdint.h>

#define RK_POOL_MIN_SHIFT 7   /* 128 B */
#define RK_POOL_CLASSES 14    /* up to 1 MiB */
#define RK_POOL_NONE 255      /* plain malloc */

#ifdef __cplusplus
extern "C" {
#endif

/** Allocate at least @p size bytes; *cls receives the class (for rk_pool_free). */
void *rk_pool_alloc(size_t size, uint8_t *cls, size_t *usable);
void rk_pool_free(void *p, uint8_t cls);
/** Blocks ever obtained from malloc by the pool (process-wide). */
uint64_t rk_pool_sys_allocs(void);
/** 1 when the pool forwards to malloc (AddressSanitizer builds). */
int rk_pool_passthrough(void);

#ifdef __cplusplus
}
#endif

#endif
