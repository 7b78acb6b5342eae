// ringmesh-peer-failure: a rank dies (SIGKILL) in the middle of a run; the
// survivors must get RK_ERR_PEER instead of hanging, and their shutdown must
// finish. Run under `mpirun --enable-recovery -n 2` with UCX over TCP so the
// launcher lets the survivors finish (and reports which rank died).
// Exit 0 when every survivor saw RK_ERR_PEER in time.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "../test_types.h"

static void echo(rk_ctx_t *ctx, void *)
{
    while (!rk_ctx_should_terminate(ctx)) {
        rk_msg_t *m = nullptr;
        if (rk_ctx_receive(ctx, 100000, &m) != RK_OK) continue;
        rk_ctx_reply(ctx, m, m);
        rk_msg_free(m);
    }
}

int main(int argc, char **argv)
{
    int provided, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    rk_runtime_params_t p{};
    p.field_mask = RK_RUNTIME_FIELD_TRANSPORT;
    p.transport = RK_TRANSPORT_UCX;
    rk_runtime_t *rt = nullptr;
    if (rk_runtime_create(&p, &rt) != RK_OK) return 3;
    rk_runtime_register_type(rt, TestNum_type());
    rank = rk_runtime_rank(rt);
    size = rk_runtime_size(rt);
    const int victim = size - 1;
    if (rank == victim) {
        rk_kernel_params_t kp{};
        kp.kernel_id = "doomed";
        kp.fn = echo;
        rk_kernel_start(rt, &kp);
    }
    rk_runtime_sync(rt);
    if (rank == victim) {
        usleep(200000);
        raise(SIGKILL); /* dies without a word to anyone */
    }
    auto t0 = std::chrono::steady_clock::now();
    rk_status_t st = RK_OK;
    for (int i = 0; st == RK_OK || st == RK_ERR_TIMEOUT; i++) {
        TestNum *n = make_num(i);
        rk_msg_t *out = nullptr;
        st = rk_send_timeout(rt, "doomed", &n->hdr, 1000000);
        if (st == RK_OK) st = rk_receive(rt, "doomed", 1000000, &out);
        rk_msg_free(out);
        rk_msg_free(&n->hdr);
        if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(60)) break;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("rank %d: after %.2f s: %s\n", rank, secs, rk_status_str(st));
    rk_status_t dst = rk_runtime_destroy(rt); /* must not hang on the dead rank */
    printf("rank %d: shutdown: %s\n", rank, rk_status_str(dst));
    fflush(stdout);
    _exit(st == RK_ERR_PEER && dst == RK_ERR_PEER ? 0 : 1); /* MPI_Finalize cannot complete with a dead peer */
}
