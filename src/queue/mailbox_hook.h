/*
 * mailbox_hook.h - a test seam in rk_mailbox_put (internal, not installed).
 *
 * When set, rk_mailbox_put calls rk_mailbox_reserved_hook between reserving
 * its position and publishing it: a test can hold a put there, the window in
 * which a producer is preempted in real life, and check what takers and
 * other producers do meanwhile. NULL (the default) costs one load per put.
 */
#ifndef RK_MAILBOX_HOOK_H
#define RK_MAILBOX_HOOK_H

#ifdef __cplusplus
extern "C" {
#endif

extern void (*rk_mailbox_reserved_hook)(void);

struct rk_msg;
struct rk_mailbox;
/**
 * Called with each message a DROP_OLDEST put evicts, just before it is freed,
 * on the putting thread (possibly under the mailbox's lock: the hook must not
 * use the mailbox). Set before the mailbox is shared.
 */
typedef void (*rk_mailbox_evict_fn)(void *arg, const struct rk_msg *victim);
void rk_mailbox_set_evict_hook(struct rk_mailbox *mb, rk_mailbox_evict_fn fn, void *arg);
/**
 * Register (@p delta 1) or withdraw (-1) a message of priority @p prio that
 * waits for room in a BLOCK mailbox outside rk_mailbox_put (the router's
 * deliveries waiting for mailbox room): puts of lower priority then leave
 * the room to it.
 */
void rk_mailbox_waiter(struct rk_mailbox *mb, int prio, int delta);
/** The highest priority waiting for room (rk_mailbox_waiter or a blocked put), -1 when none. */
int rk_mailbox_top_waiter(const struct rk_mailbox *mb);
/*
 * rk_mailbox_peek, but only when the look saw every reserved position: a put
 * reserved and not yet published (another thread mid-put) gives RK_ERR_TIMEOUT,
 * since what it hides may be older than anything visible. RK_ERR_EMPTY when
 * nothing at all is queued. For a caller that must not overtake anything queued.
 */
int rk_mailbox_peek_all(struct rk_mailbox *mb, const struct rk_msg **out);

#ifdef __cplusplus
}
#endif
#endif
