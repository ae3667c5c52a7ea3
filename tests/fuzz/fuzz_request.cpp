// libFuzzer target: the daemon's request decoder, decode_request (lib/protocol), fed
// any bytes a client could send as one line. Besides "never crashes, never throws",
// it checks that a decoded request survives the client's encoding unchanged: what the
// daemon accepted, encode_request writes and decode_request reads back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto request = musicfs::decode_request(line);
  if (!request) {
    FUZZ_CHECK(!request.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(!request->cmd.empty());
  FUZZ_CHECK(request->args.is_object());
  auto again = musicfs::decode_request(musicfs::encode_request(*request));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->cmd == request->cmd);
  FUZZ_CHECK(again->args == request->args);
  return 0;
}
