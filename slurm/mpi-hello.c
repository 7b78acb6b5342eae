/* slurm/mpi-hello.c - smoke test for an MPI launch (srun --mpi=pmix or
 * mpirun): every rank reports where it runs, the ranks agree on the world
 * size and an allreduce of the ranks, and rank 0 prints VERIFY OK.
 * Build: mpicc -O2 -o mpi-hello slurm/mpi-hello.c */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size, local_rank, len, expect = 0, ok;
    long sum = 0, mine;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Comm node;
    const char *ntasks = getenv("SLURM_NTASKS");

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &local_rank);
    MPI_Get_processor_name(host, &len);
    printf("hello from rank %d/%d (node-local %d) on %s\n", rank, size, local_rank, host);
    fflush(stdout);

    mine = rank;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (argc > 1) expect = atoi(argv[1]);
    else if (ntasks) expect = atoi(ntasks);
    ok = sum == (long)size * (size - 1) / 2 && (expect <= 0 || expect == size);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        if (ok) printf("VERIFY OK: %d ranks, allreduce %ld\n", size, sum);
        else printf("VERIFY FAIL: %d ranks (expected %d), allreduce %ld\n", size, expect, sum);
    }
    MPI_Comm_free(&node);
    MPI_Finalize();
    return ok ? 0 : 1;
}
