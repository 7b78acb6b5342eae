/*
 * consumer.c - a minimal program built against an installed ringmesh.
 *
 * The last rank hosts an "echo" kernel that doubles a number and replies;
 * rank 0 sends one request, waits for the reply and checks that it answers
 * that request (correlation_id) with the right value.
 *   mpirun -n 2 ./consumer      -> rank 0 prints "consumer: OK"
 */
#include <mpi.h>
#include <stdio.h>

#include <ringmesh/ringmesh.h>

#define ECHO_MSG(F) F(EchoMsg, value, INT, _)
RK_MESSAGE_DECLARE(EchoMsg, ECHO_MSG)
RK_MESSAGE_DEFINE(EchoMsg, ECHO_MSG)

#define CHECK(call) do { rk_status_t st_ = (call); if (st_ != RK_OK) { \
    fprintf(stderr, "consumer: %s: %s\n", #call, rk_status_str(st_)); MPI_Abort(MPI_COMM_WORLD, 1); } } while (0)

/* A handler kernel: called once per message; the runtime frees it afterwards. */
static void echo(rk_ctx_t *ctx, const rk_msg_t *m, void *arg)
{
    (void)arg;
    const EchoMsg *req = EchoMsg_cast(m); /* NULL when m is not an EchoMsg */
    EchoMsg *rep = NULL;
    if (req && EchoMsg_new(&rep) == RK_OK) {
        rep->value = 2 * req->value;
        rk_ctx_reply(ctx, m, &rep->hdr); /* sets correlation_id = request's message_id */
        rk_msg_free(&rep->hdr);
    }
}

int main(int argc, char **argv)
{
    int provided, ok = 1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    rk_runtime_params_t p = {.transport = RK_TRANSPORT_AUTO};
    rk_runtime_t *rt = NULL;
    CHECK(rk_runtime_create(&p, &rt));
    CHECK(rk_runtime_register_type(rt, EchoMsg_type()));
    if (rk_runtime_rank(rt) == rk_runtime_size(rt) - 1) {
        rk_kernel_params_t k = {.kernel_id = "echo", .on_message = echo};
        CHECK(rk_kernel_start(rt, &k));
    }
    CHECK(rk_runtime_sync(rt)); /* every rank now knows where "echo" lives */
    if (rk_runtime_rank(rt) == 0) {
        EchoMsg *req = NULL;
        rk_msg_t *rep = NULL;
        CHECK(EchoMsg_new(&req));
        req->value = 21;
        CHECK(rk_call(rt, "echo", &req->hdr, 10 * 1000000, &rep)); /* the reply to this request */
        const EchoMsg *answer = EchoMsg_cast(rep);
        ok = answer && rk_uuid_equal(&rep->correlation_id, &req->hdr.message_id) && answer->value == 42;
        printf("consumer: %s (ringmesh %s, %d ranks)\n", ok ? "OK" : "FAILED", rk_version(),
               rk_runtime_size(rt));
        rk_msg_free(&req->hdr);
        rk_msg_free(rep);
    }
    CHECK(rk_runtime_destroy(rt));
    MPI_Finalize();
    return ok ? 0 : 1;
}
