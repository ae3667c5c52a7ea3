#include <catch2/catch.hpp>

#include "origins/http_client.h"

using namespace musicfs;

TEST_CASE("http client: URLs in messages carry no credentials or query strings", "[http]") {
  CHECK(redact_url("https://user:secret@host.example:8443/music/a.flac") == "https://host.example:8443/music/a.flac");
  CHECK(redact_url("https://bucket.s3.example/key?X-Amz-Signature=abc&X-Amz-Credential=k") ==
        "https://bucket.s3.example/key?...");
  CHECK(redact_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/");
  CHECK(redact_url("http://host#frag") == "http://host");
  HttpRequest req;
  req.method = HttpMethod::kHead;
  req.url = "http://a:b@h/x?sig=1";
  req.userpwd = "KEY:SECRET";
  CHECK(describe_request(req) == "HEAD http://h/x?...");
}

TEST_CASE("http client: path components are percent-encoded and decoded", "[http]") {
  CHECK(url_encode_component("01 Intro.flac") == "01%20Intro.flac");
  CHECK(url_encode_component("Björk?#%/") == "Bj%C3%B6rk%3F%23%25%2F");
  CHECK(url_encode_component("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_decode("Bj%C3%B6rk%20x") == std::optional<std::string>("Björk x"));
  CHECK_FALSE(url_decode("bad%2").has_value());
  CHECK_FALSE(url_decode("bad%zz").has_value());
}

TEST_CASE("http client: HTTP dates parse to unix seconds", "[http]") {
  CHECK(parse_http_date("Wed, 25 Nov 2026 05:01:31 GMT") == std::optional<int64_t>(1795582891));
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == std::optional<int64_t>(0));
  CHECK_FALSE(parse_http_date("Wednesday, 25-Nov-26 05:01:31 GMT").has_value());
  CHECK_FALSE(parse_http_date("Wed, 25 Foo 2026 05:01:31 GMT").has_value());
  CHECK_FALSE(parse_http_date("").has_value());
}

TEST_CASE("http client: statuses map to error codes", "[http]") {
  CHECK(error_for_status(404, "x").code == ErrorCode::kNotFound);
  CHECK(error_for_status(401, "x").code == ErrorCode::kPermission);
  CHECK(error_for_status(403, "x").code == ErrorCode::kPermission);
  CHECK(error_for_status(503, "x").code == ErrorCode::kUnavailable);
  CHECK(error_for_status(500, "x").code == ErrorCode::kIo);
  CHECK(error_for_status(500, "origin web: GET http://h/").message == "origin web: GET http://h/: HTTP status 500");
}

TEST_CASE("http client: a refused connection is kUnavailable and names the URL without secrets", "[http]") {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  HttpClient client;
  HttpRequest req;
  req.url = "http://user:pw@127.0.0.1:1/music/?token=secret";
  req.deadline = deadline_in(Millis(3000));
  auto r = client.perform(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("http://127.0.0.1:1/music/") != std::string::npos);
  CHECK(r.error().message.find("secret") == std::string::npos);
  CHECK(r.error().message.find("pw") == std::string::npos);
}

TEST_CASE("http client: a deadline already past fails without a request", "[http]") {
  HttpClient client;
  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  req.deadline = SteadyClock::now() - Millis(1);
  auto r = client.perform(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimedOut);
}
