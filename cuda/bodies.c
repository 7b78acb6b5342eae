/*
 * bodies.c - host-side definitions for the example bodies: the message
 * descriptors, and the launcher lookup when the CUDA backend is absent.
 */
#include "bodies.h"

RK_MESSAGE_DEFINE(RkVector, RK_VECTOR_FIELDS)

#ifndef RINGMESH_HAVE_CUDA
rk_device_launch_fn rk_example_scale_launcher(void) { return NULL; }
#endif
