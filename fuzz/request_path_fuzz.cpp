// The server's request path as `trafficsim demo` serves it: the bytes of one connection go over
// loopback to the demo target with the control API, the incident routes (webhook, simulator) and
// the telemetry routes in front — the real session (head and body limits, framing rules,
// keep-alive and pipelining), the router, query strings, Last-Event-ID on a job's stream, and
// the JSON body of every endpoint. Each input is one connection: sent, and the answer to its
// first request read. Every response must be well-formed HTTP (the load engine's parser reads
// it), no handler may throw (the session's catch-all "handler failed"), and the server must keep
// answering.
//
// Two tokens in the input are replaced before it is sent, so that mutations reach routes that
// need live values: JOBID (a running job's id: /traffic/stream/JOBID with Last-Event-ID, status,
// stop) and PORT (the server's port, for the Host header the request guard checks).
//
// State carries over between inputs (jobs started, faults set, incidents stored), as it does in
// a server that runs for hours; jobs are bounded (4 at once, 20 req/s each, against the target
// itself). An input whose answer takes longer than the read deadline (a delay fault, the LLM's
// latency) is not kept in the corpus (returns -1), so slow paths do not starve the rest.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "control/control_api.hpp"
#include "control/incident_api.hpp"
#include "control/job_manager.hpp"
#include "control/telemetry_api.hpp"
#include "demo_service/target_service.hpp"
#include "fuzz_support.hpp"
#include "http/response_parser.hpp"
#include "incidents/incident_store.hpp"
#include "incidents/simulation.hpp"
#include "telemetry/metrics.hpp"

namespace {

namespace tc = trafficsim::control;
namespace ti = trafficsim::incidents;

constexpr int kReadDeadlineMs = 250;

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  TS_FUZZ_CHECK(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` and reads the answer to the first request with the load engine's response
// parser: until that response is complete, the server closes, a streamed body (SSE) pauses for
// kStreamIdleMs after its head, or the deadline. Every answer must parse. Returns false when the
// deadline passed first.
constexpr int kStreamIdleMs = 20;
bool exchange(uint16_t port, const std::string& bytes, std::string& answer,
              std::chrono::milliseconds wait = std::chrono::milliseconds(kReadDeadlineMs)) {
  int fd = connect_to(port);
  TS_FUZZ_CHECK(fd >= 0);  // the server must keep accepting
  const auto deadline = std::chrono::steady_clock::now() + wait;
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server answered and closed early (413, 431, 400): fine
    sent += static_cast<size_t>(n);
  }
  trafficsim::http::ResponseParser parser;
  parser.reset(bytes.starts_with("HEAD "));
  bool in_time = true, done = false;
  char buf[16384];
  while (!done) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      in_time = false;
      break;
    }
    const bool head_seen = parser.status() != 0;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, head_seen ? std::min<int>(kStreamIdleMs, left.count())
                                          : static_cast<int>(left.count()));
    if (r == 0) {
      if (head_seen) break;  // a stream that went quiet: answered
      continue;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {  // closed (or reset): what came so far must end where a response may end
      if (parser.in_progress() && n == 0)
        TS_FUZZ_CHECK(parser.on_eof() != trafficsim::http::ResponseParser::Result::error);
      break;
    }
    if (answer.size() < (1u << 20)) answer.append(buf, static_cast<size_t>(n));
    size_t used = 0;
    const auto result = parser.feed(buf, static_cast<size_t>(n), &used);
    if (result == trafficsim::http::ResponseParser::Result::error) {
      std::fprintf(stderr, "malformed answer (%s): %.200s\n", parser.error_reason(),
                   answer.c_str());
      TS_FUZZ_CHECK(!"the server's answer parses");
    }
    done = result == trafficsim::http::ResponseParser::Result::complete;
  }
  ::close(fd);
  return in_time;
}

std::string replace_all(std::string s, std::string_view token, std::string_view value) {
  for (size_t at = s.find(token); at != std::string::npos; at = s.find(token, at + value.size()))
    s.replace(at, token.size(), value);
  return s;
}

struct Stack {
  Stack() {
    char tmpl[] = "/tmp/trafficsim-fuzz-XXXXXX";
    TS_FUZZ_CHECK(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    store = std::make_unique<ti::IncidentStore>(dir + "/incidents.sqlite");
    incident_api = std::make_unique<tc::IncidentApi>(*store, "http://127.0.0.1:8000/");

    trafficsim::demo_service::TargetOptions t;
    t.port = 0;
    t.data_dir = dir;
    t.catalog_rows = 300;
    t.access_log = "off";
    t.threads = 1;
    t.indexed_threads = 1;
    t.scan_threads = 1;
    // A request that never completes (a Content-Length past the bytes sent) is closed soon.
    t.read_timeout = std::chrono::milliseconds(20);
    t.idle_timeout = std::chrono::milliseconds(20);  // and a connection that sends nothing
    t.seed = 7;
    t.front_handler = [this](const std::shared_ptr<const trafficsim::http::ServerRequest>& r,
                             const trafficsim::http::Reply& reply) {
      return api->handle(r, reply);
    };
    service = std::make_unique<trafficsim::demo_service::TargetService>(t);

    ti::SimulationOptions so;
    so.store = store.get();
    so.registry = &service->registry();
    so.dashboard_url = "http://127.0.0.1:8000";
    so.demo_wall_seconds = 0.01;
    so.realtime_tick_seconds = 0.05;
    so.max_running = 2;
    simulations = std::make_unique<ti::SimulationRunner>(so);
    incident_api->set_simulations(simulations.get());

    tc::ManagerOptions mo;
    mo.target_url = service->url();
    mo.threads = 1;
    mo.seed = 7;
    mo.heartbeat = std::chrono::milliseconds(50);
    manager = std::make_unique<tc::JobManager>(mo);
    tc::GuardOptions g;
    g.port = service->port();
    auto* svc = service.get();
    api = std::make_unique<tc::ControlApi>(*manager, tc::RequestGuard(g),
                                           [svc] { return svc->registry().expose(); });
    api->set_incidents(incident_api.get());
    telemetry.add_source({"demo-target", &svc->spans(), &svc->logs(), &svc->registry()});
    api->set_telemetry(&telemetry);
    api->set_monitors([] { return boost::json::object{{"monitors", boost::json::array{}}}; });
    service->start();
    port = std::to_string(service->port());

    // One long, slow job whose id JOBID stands for.
    std::string body = R"({"scenario":"normal","duration":"1h","maxRps":1})";
    std::string req = "POST /traffic/start HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                      "\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    std::string answer;
    exchange(service->port(), req, answer, std::chrono::seconds(10));
    const auto at = answer.find("\"jobId\":\"");
    TS_FUZZ_CHECK(at != std::string::npos);
    job_id = answer.substr(at + 9, answer.find('"', at + 9) - (at + 9));
  }

  ~Stack() {
    service->stop();  // first: no request in flight can start a job or a simulation after this
    manager->stop_all();
    manager->wait_all();
    simulations.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string dir, port, job_id;
  std::unique_ptr<ti::IncidentStore> store;
  std::unique_ptr<tc::IncidentApi> incident_api;
  std::unique_ptr<trafficsim::demo_service::TargetService> service;
  std::unique_ptr<ti::SimulationRunner> simulations;
  std::unique_ptr<tc::JobManager> manager;
  tc::TelemetryApi telemetry;
  std::unique_ptr<tc::ControlApi> api;
};

// Built on the first input; torn down at exit (libFuzzer's and the replay runner's) by an atexit
// handler registered after the stack's own statics, so it runs before they are destroyed and no
// job or io thread outlives what it uses.
Stack* the_stack = nullptr;
Stack& stack() {
  if (!the_stack) {
    // OpenSSL (the plan hash) registers its cleanup at exit on first use: initialised here, before
    // the teardown below is registered, its cleanup runs after the teardown, not under a job.
    OPENSSL_init_crypto(0, nullptr);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_Digest("x", 1, digest, &digest_len, EVP_sha256(), nullptr);
    the_stack = new Stack();
    std::atexit([] {
      if (std::getenv("TS_FUZZ_TRACE")) std::fprintf(stderr, "trace teardown\n");
      delete the_stack;
      if (std::getenv("TS_FUZZ_TRACE")) std::fprintf(stderr, "trace teardown done\n");
      the_stack = nullptr;
    });
  }
  return *the_stack;
}

// "HTTP/1.x NNN " at the start of every response in the answer (pipelined requests give several;
// a streamed response's body is not parsed).
void check_answer(const std::string& answer) {
  // Closed without a word (a client that sent nothing complete), or a reset that cut the
  // answer short: what did arrive must still be the start of a status line.
  const std::string_view status_line_start = "HTTP/1.";
  if (answer.size() < 13) {
    TS_FUZZ_CHECK(status_line_start.substr(0, answer.size()) ==
                  std::string_view(answer).substr(0, status_line_start.size()));
    return;
  }
  TS_FUZZ_CHECK(answer.compare(0, 7, "HTTP/1.") == 0);
  TS_FUZZ_CHECK(answer[8] == ' ' && answer[12] == ' ');
  for (int i = 9; i < 12; ++i) TS_FUZZ_CHECK(answer[i] >= '0' && answer[i] <= '9');
  TS_FUZZ_CHECK(answer[9] >= '1' && answer[9] <= '5');
  // An exception escaped a handler (the session's catch-all answered): some input was not
  // checked where it came in. (Answers may echo the request, so only this exact answer counts.)
  const auto body_at = answer.find("\r\n\r\n");
  if (answer.compare(9, 3, "500") == 0 && body_at != std::string::npos)
    TS_FUZZ_CHECK(answer.compare(body_at + 4, std::string::npos,
                                 R"({"error":"internal_error","message":"handler failed"})") != 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Stack& s = stack();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  bytes = replace_all(std::move(bytes), "JOBID", s.job_id);
  bytes = replace_all(std::move(bytes), "PORT", s.port);
  std::string answer;
  const auto t0 = std::chrono::steady_clock::now();
  const bool in_time = exchange(s.service->port(), bytes, answer);
  if (std::getenv("TS_FUZZ_TRACE"))  // what each input took and how it was answered
    std::fprintf(stderr, "trace %lld ms %s | %.60s\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count()),
                 answer.substr(0, answer.find('\r')).c_str(),
                 bytes.substr(0, bytes.find('\r')).c_str());
  check_answer(answer);
  // Every 64 inputs (and on the first): the server still answers its liveness probe after
  // whatever came before.
  static uint64_t runs = 0;
  if (runs++ % 64 == 0) {
    std::string live;
    exchange(s.service->port(),
             "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", live,
             std::chrono::seconds(10));
    TS_FUZZ_CHECK(live.compare(0, 12, "HTTP/1.1 200") == 0);
  }
  return in_time ? 0 : -1;
}
