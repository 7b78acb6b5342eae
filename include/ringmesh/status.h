/**
 * @file ringmesh/status.h
 * @brief The one status type of the ringmesh API.
 *
 * Every fallible call returns rk_status_t. RK_OK is zero; every error is a
 * distinct negative value with a fixed meaning, so callers can switch on it and
 * print it with rk_status_str(). No call reports errors through errno or -1.
 * The numeric values are part of the ABI: they never change and are never
 * reused; new codes are only ever added below the last one.
 */
#ifndef RINGMESH_STATUS_H
#define RINGMESH_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes returned by every fallible ringmesh call. */
typedef enum rk_status {
    RK_OK = 0,                /**< success */
    RK_ERR_INVALID = -1,      /**< a NULL or out-of-range argument */
    RK_ERR_NOMEM = -2,        /**< an allocation failed */
    RK_ERR_TIMEOUT = -3,      /**< the timeout passed before the operation could complete */
    RK_ERR_FULL = -4,         /**< the mailbox is full and its strategy is REJECT */
    RK_ERR_EMPTY = -5,        /**< nothing to take (try_get / peek on an empty queue) */
    RK_ERR_NOT_FOUND = -6,    /**< unknown kernel_id, topic or buffer id */
    RK_ERR_EXISTS = -7,       /**< a kernel_id or type name that is already taken */
    RK_ERR_STATE = -8,        /**< an illegal lifecycle transition */
    RK_ERR_TERMINATED = -9,   /**< the kernel or runtime has terminated */
    RK_ERR_DECODE = -10,      /**< malformed msgpack input (garbage, wrong kinds) */
    RK_ERR_TRUNCATED = -11,   /**< input ended before the value it started */
    RK_ERR_TOO_LARGE = -12,   /**< a message or field larger than the configured limit */
    RK_ERR_TYPE = -13,        /**< unknown message type, or a type mismatch */
    RK_ERR_PRIORITY = -14,    /**< priority outside 0..255 */
    RK_ERR_MALFORMED = -15,   /**< an in-memory message block that fails validation */
    RK_ERR_TRANSPORT = -16,   /**< the transport failed to move a frame */
    RK_ERR_PEER = -17,        /**< a peer rank failed or disconnected */
    RK_ERR_UNSUPPORTED = -18, /**< not available in this build or on this machine */
    RK_ERR_DROPPED = -19,     /**< the message was dropped by DROP_OLDEST (counted) */
    RK_ERR_FAILED = -20       /**< the kernel failed: its body returned or called rk_ctx_fail */
} rk_status_t;

/**
 * Human-readable string for a status ("RK_ERR_TIMEOUT: ...").
 * @param status any value, also one that is not an rk_status_t.
 * @return a static string owned by the library (never NULL, never to be
 *         freed); an unknown value gets a generic text. Thread-safe.
 */
const char *rk_status_str(rk_status_t status);

#ifdef __cplusplus
}
#endif
#endif /* RINGMESH_STATUS_H */
