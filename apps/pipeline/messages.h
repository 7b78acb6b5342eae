/*
 * messages.h - the message types of ringmesh-pipeline, shared by its host
 * stages (pipeline.c) and the filter's device body (filter_body.h), which
 * reads StatBatch and writes BatchSummary blocks in place, on a GPU too.
 * A StatBatch carries the window length and threshold it is to be filtered
 * with, so the filter body needs no state of its own.
 */
#ifndef RINGMESH_PIPELINE_MESSAGES_H
#define RINGMESH_PIPELINE_MESSAGES_H

#include "ringmesh/message.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RAW_BATCH(F)                   \
    F(RawBatch, seq, INT, _)           \
    F(RawBatch, start, INT, _)         \
    F(RawBatch, values, LIST, FLOAT)   \
    F(RawBatch, last, BOOL, _)         \
    F(RawBatch, errors, INT, _)
#define STAT_BATCH(F)                  \
    F(StatBatch, seq, INT, _)          \
    F(StatBatch, start, INT, _)        \
    F(StatBatch, values, LIST, FLOAT)  \
    F(StatBatch, means, LIST, FLOAT)   \
    F(StatBatch, stds, LIST, FLOAT)    \
    F(StatBatch, window, INT, _)       \
    F(StatBatch, threshold, FLOAT, _)  \
    F(StatBatch, last, BOOL, _)        \
    F(StatBatch, errors, INT, _)
#define BATCH_SUMMARY(F)                          \
    F(BatchSummary, seq, INT, _)                  \
    F(BatchSummary, start, INT, _)                \
    F(BatchSummary, count, INT, _)                \
    F(BatchSummary, anomalies, INT, _)            \
    F(BatchSummary, mean, FLOAT, _)               \
    F(BatchSummary, m2, FLOAT, _)                 \
    F(BatchSummary, min, FLOAT, _)                \
    F(BatchSummary, max, FLOAT, _)                \
    F(BatchSummary, mean_sum, FLOAT, _)           \
    F(BatchSummary, checksum, INT, _)             \
    F(BatchSummary, anomaly_index, LIST, INT)     \
    F(BatchSummary, anomaly_value, LIST, FLOAT)   \
    F(BatchSummary, last, BOOL, _)                \
    F(BatchSummary, errors, INT, _)
#define PIPELINE_START(F) F(PipelineStart, records, INT, _)
#define PIPELINE_RESULT(F)                        \
    F(PipelineResult, records, INT, _)            \
    F(PipelineResult, batches, INT, _)            \
    F(PipelineResult, anomalies, INT, _)          \
    F(PipelineResult, mean, FLOAT, _)             \
    F(PipelineResult, m2, FLOAT, _)               \
    F(PipelineResult, min, FLOAT, _)              \
    F(PipelineResult, max, FLOAT, _)              \
    F(PipelineResult, mean_sum, FLOAT, _)         \
    F(PipelineResult, checksum, INT, _)           \
    F(PipelineResult, errors, INT, _)             \
    F(PipelineResult, first_index, LIST, INT)     \
    F(PipelineResult, first_value, LIST, FLOAT)

RK_MESSAGE_DECLARE(RawBatch, RAW_BATCH)
RK_MESSAGE_DECLARE(StatBatch, STAT_BATCH)
RK_MESSAGE_DECLARE(BatchSummary, BATCH_SUMMARY)
RK_MESSAGE_DECLARE(PipelineStart, PIPELINE_START)
RK_MESSAGE_DECLARE(PipelineResult, PIPELINE_RESULT)

#ifdef __cplusplus
}
#endif
#endif
