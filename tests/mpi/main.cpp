// GoogleTest main for multi-rank suites: MPI is initialized here with
// MPI_THREAD_MULTIPLE; only rank 0 prints results, every rank's failures make
// the whole run fail (the exit code is reduced over all ranks).
#include <gtest/gtest.h>
#include <mpi.h>

// Non-zero ranks print only their failed assertions, prefixed with the rank.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
  public:
    explicit RankFailurePrinter(int rank) : rank_(rank) {}
    void OnTestPartResult(const ::testing::TestPartResult &r) override
    {
        if (r.failed())
            fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, r.file_name() ? r.file_name() : "?", r.line_number(),
                    r.summary());
    }

  private:
    int rank_;
};

int main(int argc, char **argv)
{
    int provided = 0, rank = 0, size = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ::testing::InitGoogleTest(&argc, argv);
    if (rank != 0) {
        auto &listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
        listeners.Append(new RankFailurePrinter(rank));
    }
    int rc = RUN_ALL_TESTS(), worst = 0;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("[ringmesh mpi tests] %d ranks: %s\n", size, worst ? "FAILED" : "PASSED");
    MPI_Finalize();
    return worst;
}
