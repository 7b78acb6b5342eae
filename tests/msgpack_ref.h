// msgpack_ref.h - for tests: msgpack built by msgpack-c, the reference encoder the
// wire format is pinned against, and messages owned by a unique_ptr. Shared by
// test_codec.cpp and test_kinds.cpp: everything here is inline, a class or a template.
#ifndef RK_TESTS_MSGPACK_REF_H
#define RK_TESTS_MSGPACK_REF_H

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringmesh/ringmesh.h"

namespace rktest {

struct MsgFree {
    void operator()(void *m) const { rk_msg_free(static_cast<rk_msg_t *>(m)); }
};
template <class T> using Owned = std::unique_ptr<T, MsgFree>;
using Bytes = std::vector<uint8_t>;

// Builds msgpack by hand (msgpack-c's packer on an sbuffer).
class Mp {
  public:
    Mp()
    {
        msgpack_sbuffer_init(&sb_);
        msgpack_packer_init(&pk_, &sb_, msgpack_sbuffer_write);
    }
    ~Mp() { msgpack_sbuffer_destroy(&sb_); }
    Mp(const Mp &) = delete;
    Mp &operator=(const Mp &) = delete;

    Mp &map(size_t n) { return ok(msgpack_pack_map(&pk_, n)); }
    Mp &arr(size_t n) { return ok(msgpack_pack_array(&pk_, n)); }
    Mp &str(const std::string &s) { return ok(msgpack_pack_str_with_body(&pk_, s.data(), s.size())); }
    Mp &bin(const void *p, size_t n) { return ok(msgpack_pack_bin_with_body(&pk_, p, n)); }
    Mp &i(int64_t v) { return ok(msgpack_pack_int64(&pk_, v)); }
    Mp &u(uint64_t v) { return ok(msgpack_pack_uint64(&pk_, v)); }
    Mp &f(double v) { return ok(msgpack_pack_double(&pk_, v)); }
    Mp &f32(float v) { return ok(msgpack_pack_float(&pk_, v)); }
    Mp &b(bool v) { return ok(v ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_)); }
    Mp &nil() { return ok(msgpack_pack_nil(&pk_)); }
    Mp &uuid_map(const rk_uuid_t &id) { return map(1).str("__uuid_bin__").bin(id.bytes, 16); }
    Mp &raw(const Bytes &bytes) { return ok(msgpack_sbuffer_write(&sb_, (const char *)bytes.data(), bytes.size())); }
    Bytes bytes() const { return Bytes(sb_.data, sb_.data + sb_.size); }

  private:
    Mp &ok(int rc)
    {
        EXPECT_EQ(rc, 0);
        return *this;
    }
    msgpack_sbuffer sb_;
    msgpack_packer pk_;
};

inline Bytes serialize(const void *msg)
{
    rk_buf_t buf;
    rk_buf_init(&buf);
    EXPECT_EQ(rk_msg_serialize(static_cast<const rk_msg_t *>(msg), &buf), RK_OK);
    Bytes out(buf.data, buf.data + buf.len);
    rk_buf_free(&buf);
    return out;
}

}  // namespace rktest

#endif
