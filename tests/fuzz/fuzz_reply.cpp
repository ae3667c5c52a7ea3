// libFuzzer target: the client's reply decoder, decode_reply (lib/protocol), fed any
// bytes a daemon (or whatever listens on the socket) could send as one line. Besides
// "never crashes, never throws", it checks that a decoded reply survives the daemon's
// encoding unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto reply = musicfs::decode_reply(line);
  if (!reply) {
    FUZZ_CHECK(!reply.error().message.empty());
    return 0;
  }
  auto again = musicfs::decode_reply(musicfs::encode_reply(*reply));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ok == reply->ok);
  if (reply->ok) {
    FUZZ_CHECK(again->result == reply->result);
  } else {
    FUZZ_CHECK(again->error_code == reply->error_code);
    FUZZ_CHECK(again->error_message == reply->error_message);
  }
  return 0;
}
