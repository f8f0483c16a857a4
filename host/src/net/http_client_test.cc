#include "net/http_client.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "testing/loopback_http_server.h"

namespace polyhost::net {
namespace {

namespace bhttp = boost::beast::http;
using testing::Handler;
using testing::Pem;
using testing::MakeSelfSigned;
using testing::Reply;
using testing::ServerRequest;
using testing::ServerResponse;
using TestServer = testing::LoopbackHttpServer;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string TempPemFile(const std::string& pem) {
  char path[] = "/tmp/polyhost_net_test_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << pem;
  return path;
}

// A port nobody listens on: bound, then released.
int FreePort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string ErrorOf(const HttpClient& client, const HttpRequest& request) {
  try {
    client.Send(request);
  } catch (const HttpError& e) {
    return e.what();
  }
  FAIL("expected HttpError for " << request.url);
  return "";
}

TEST_CASE("GET over plain TCP sends path, query, headers and returns status, headers, body") {
  TestServer server([](const ServerRequest& req) {
    auto res = Reply(200, R"({"ok":true})");
    res.set("X-Echo", std::string(req["X-Custom"]));
    return res;
  });
  HttpClient client;
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/book?token_id=123&x=%20y#frag";
  request.headers = {{"X-Custom", "hello"}, {"Accept", "application/json"}};
  HttpResponse response = client.Send(request);
  CHECK(response.status == 200);
  CHECK(response.reason == "OK");
  CHECK(response.body == R"({"ok":true})");
  CHECK(response.Header("x-echo") == "hello");
  CHECK(response.Header("CONTENT-TYPE") == "application/json");
  CHECK_FALSE(response.Header("X-Missing").has_value());

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method() == bhttp::verb::get);
  CHECK(requests[0].target() == "/book?token_id=123&x=%20y");
  CHECK(requests[0][bhttp::field::host] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(requests[0][bhttp::field::user_agent] == "polyhost/0.1");
  CHECK(requests[0]["Accept"] == "application/json");
  CHECK(requests[0].body().empty());
}

TEST_CASE("POST and DELETE carry the exact body and its length") {
  TestServer server([](const ServerRequest&) { return Reply(201, "created"); });
  HttpClient client;
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  HttpRequest post{"POST", base + "/order", {{"Content-Type", "application/json"}}, R"({"a":1,"b":"x y"})"};
  CHECK(client.Send(post).status == 201);
  HttpRequest del{"DELETE", base + "/order", {}, R"({"orderID":"0xabc"})"};
  CHECK(client.Send(del).body == "created");
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method() == bhttp::verb::post);
  CHECK(requests[0].target() == "/order");
  CHECK(requests[0].body() == R"({"a":1,"b":"x y"})");
  CHECK(requests[0][bhttp::field::content_length] == "17");
  CHECK(requests[1].method() == bhttp::verb::delete_);
  CHECK(requests[1].body() == R"({"orderID":"0xabc"})");
}

TEST_CASE("HEAD reads the headers and no body") {
  TestServer server([](const ServerRequest&) {
    ServerResponse res = Reply(200, "");
    res.content_length(1234);
    return res;
  });
  HttpResponse response = HttpSend({"HEAD", "http://127.0.0.1:" + std::to_string(server.port()) + "/", {}, ""});
  CHECK(response.status == 200);
  CHECK(response.Header("Content-Length") == "1234");
  CHECK(response.body.empty());
}

TEST_CASE("an error status is a response, not an exception") {
  TestServer server([](const ServerRequest&) { return Reply(400, R"({"error":"invalid tick size"})"); });
  HttpResponse response = HttpSend({"GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/x", {}, ""});
  CHECK(response.status == 400);
  CHECK(response.body == R"({"error":"invalid tick size"})");
}

TEST_CASE("connection refused names host:port and the failed step, never the headers") {
  HttpClient client;
  int port = FreePort();
  HttpRequest request{"POST", "http://127.0.0.1:" + std::to_string(port) + "/order?secret_query=1",
                      {{"POLY_API_KEY", "key-value-do-not-print"}, {"POLY_PASSPHRASE", "pass-do-not-print"}},
                      "body-do-not-print"};
  std::string error = ErrorOf(client, request);
  CHECK_THAT(error, Catch::Contains("127.0.0.1:" + std::to_string(port)));
  CHECK_THAT(error, Catch::Contains("connecting failed"));
  CHECK_THAT(error, Catch::Contains("/order"));
  CHECK_THAT(error, !Catch::Contains("do-not-print"));
  CHECK_THAT(error, !Catch::Contains("secret_query"));
}

TEST_CASE("a server that never answers times out with the step named") {
  TestServer server([](const ServerRequest&) { return std::nullopt; });
  HttpClient client;
  HttpRequest request{"GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/slow", {}, ""};
  request.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  std::string error = ErrorOf(client, request);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK_THAT(error, Catch::Contains("timed out after 300 ms while reading the response"));
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("bad URLs, schemes, methods and header injection are refused") {
  HttpClient client;
  CHECK_THAT(ErrorOf(client, {"GET", "not a url", {}, ""}), Catch::Contains("invalid URL"));
  CHECK_THAT(ErrorOf(client, {"GET", "ftp://127.0.0.1/x", {}, ""}), Catch::Contains("unsupported URL scheme 'ftp'"));
  CHECK_THAT(ErrorOf(client, {"FETCH", "http://127.0.0.1:1/x", {}, ""}), Catch::Contains("unsupported HTTP method"));
  std::string error = ErrorOf(client, {"GET", "http://127.0.0.1:1/x", {{"X-Key", "sec\r\nret"}}, ""});
  CHECK_THAT(error, Catch::Contains("header 'X-Key'"));
  CHECK_THAT(error, !Catch::Contains("sec"));
}

TEST_CASE("a body over the limit fails") {
  TestServer server([](const ServerRequest&) { return Reply(200, std::string(2000, 'x')); });
  HttpClientOptions options;
  options.max_body_bytes = 1000;
  std::string error = ErrorOf(HttpClient(options), {"GET", "http://127.0.0.1:" + std::to_string(server.port()) + "/", {}, ""});
  CHECK_THAT(error, Catch::Contains("reading the response failed"));
}

TEST_CASE("HTTPS verifies the certificate against the trusted CAs and sends SNI") {
  Pem pem = MakeSelfSigned("DNS:localhost,IP:127.0.0.1");
  std::string ca_file = TempPemFile(pem.cert);
  TestServer server([](const ServerRequest& req) { return Reply(200, "secure " + std::string(req.target())); }, &pem);
  const std::string port = std::to_string(server.port());

  HttpClientOptions trusted;
  trusted.ca_file = ca_file;
  HttpClient client(trusted);
  CHECK(client.Send({"GET", "https://localhost:" + port + "/version", {}, ""}).body == "secure /version");
  CHECK(server.sni() == "localhost");
  CHECK(client.Send({"GET", "https://127.0.0.1:" + port + "/ip", {}, ""}).body == "secure /ip");

  // The system store does not know the self-signed certificate.
  std::string error = ErrorOf(HttpClient(), {"GET", "https://127.0.0.1:" + port + "/x", {}, ""});
  CHECK_THAT(error, Catch::Contains("127.0.0.1:" + port));
  CHECK_THAT(error, Catch::Contains("TLS handshake failed"));
  CHECK_THAT(error, Catch::Contains("self-signed certificate"));

  HttpClientOptions insecure;
  insecure.insecure = true;
  CHECK(HttpClient(insecure).Send({"GET", "https://127.0.0.1:" + port + "/y", {}, ""}).status == 200);
  std::remove(ca_file.c_str());
}

TEST_CASE("HTTPS refuses a trusted certificate issued for another host") {
  Pem pem = MakeSelfSigned("DNS:other.example");
  std::string ca_file = TempPemFile(pem.cert);
  TestServer server([](const ServerRequest&) { return Reply(200, "should not get here"); }, &pem);
  HttpClientOptions trusted;
  trusted.ca_file = ca_file;
  std::string error =
      ErrorOf(HttpClient(trusted), {"GET", "https://localhost:" + std::to_string(server.port()) + "/", {}, ""});
  CHECK_THAT(error, Catch::Contains("TLS handshake failed"));
  CHECK_THAT(error, Catch::Contains("mismatch"));
  std::remove(ca_file.c_str());
}

TEST_CASE("a missing CA file is a clear error") {
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(HttpClient(options), Catch::Contains("cannot load CA file '/nonexistent/ca.pem'"));
}

}  // namespace
}  // namespace polyhost::net
