/*
 * status.c - rk_status_str: one fixed string per status code.
 */
#include "ringmesh/status.h"

const char *rk_status_str(rk_status_t status)
{
    switch (status) {
    case RK_OK: return "RK_OK: success";
    case RK_ERR_INVALID: return "RK_ERR_INVALID: invalid argument";
    case RK_ERR_NOMEM: return "RK_ERR_NOMEM: out of memory";
    case RK_ERR_TIMEOUT: return "RK_ERR_TIMEOUT: timed out";
    case RK_ERR_FULL: return "RK_ERR_FULL: mailbox full (rejected)";
    case RK_ERR_EMPTY: return "RK_ERR_EMPTY: nothing queued";
    case RK_ERR_NOT_FOUND: return "RK_ERR_NOT_FOUND: unknown kernel, topic or id";
    case RK_ERR_EXISTS: return "RK_ERR_EXISTS: name already taken";
    case RK_ERR_STATE: return "RK_ERR_STATE: illegal lifecycle transition";
    case RK_ERR_TERMINATED: return "RK_ERR_TERMINATED: kernel or runtime terminated";
    case RK_ERR_DECODE: return "RK_ERR_DECODE: malformed msgpack input";
    case RK_ERR_TRUNCATED: return "RK_ERR_TRUNCATED: input truncated";
    case RK_ERR_TOO_LARGE: return "RK_ERR_TOO_LARGE: message too large";
    case RK_ERR_TYPE: return "RK_ERR_TYPE: unknown or mismatched message type";
    case RK_ERR_PRIORITY: return "RK_ERR_PRIORITY: priority outside 0..255";
    case RK_ERR_MALFORMED: return "RK_ERR_MALFORMED: message block fails validation";
    case RK_ERR_TRANSPORT: return "RK_ERR_TRANSPORT: transport failure";
    case RK_ERR_PEER: return "RK_ERR_PEER: peer rank failed";
    case RK_ERR_UNSUPPORTED: return "RK_ERR_UNSUPPORTED: not supported here";
    case RK_ERR_DROPPED: return "RK_ERR_DROPPED: dropped by DROP_OLDEST";
    case RK_ERR_FAILED: return "RK_ERR_FAILED: the kernel failed";
    }
    return "RK_ERR_?: unknown status";
}
