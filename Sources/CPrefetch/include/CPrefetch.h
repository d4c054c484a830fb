#ifndef CREMA_PREFETCH_H
#define CREMA_PREFETCH_H

/// Asks the CPU to bring the cache line holding `address` into its caches ahead of a read, so
/// that batched lookups over memory much larger than the caches overlap their misses. A hint:
/// it never faults, whatever the address.
static inline void crema_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
