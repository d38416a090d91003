// The control protocol, the scale arithmetic and pyfpmctl's table, without
// a daemon.
#include <gtest/gtest.h>

#include "manager/pool_resize.hpp"
#include "src/pyfpm/control/protocol.hpp"
#include "src/pyfpmctl/status_table.hpp"

namespace pyfpm::control {
namespace {

using nlohmann::json;

Request parsed(std::string_view line)
{
    auto result = parseRequest(line);
    EXPECT_TRUE(std::holds_alternative<Request>(result)) << std::get<std::string>(result);
    return std::get<Request>(result);
}

std::string refused(std::string_view line)
{
    auto result = parseRequest(line);
    EXPECT_TRUE(std::holds_alternative<std::string>(result)) << line;
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(ControlProtocol, every_command_round_trips_through_its_json)
{
    for (const auto& info : commands()) {
        Request request;
        request.command = info.command;
        request.pool = "web";
        request.workers = 3;
        request.file = "/etc/pyfpm/pyfpm.yaml";
        const Request back = parsed(request.toJson().dump());
        EXPECT_EQ(back.command, info.command) << info.name;
        EXPECT_EQ(&infoOf(back.command), &info);
    }
}

TEST(ControlProtocol, scale_carries_pool_and_workers_and_stop_its_timeout)
{
    const Request scale = parsed(R"({"command":"scale","pool":"web","workers":4})");
    EXPECT_EQ(scale.pool, "web");
    EXPECT_EQ(scale.workers, 4);
    const Request stop = parsed(R"({"command":"stop","timeout_ms":2500})");
    ASSERT_TRUE(stop.timeout.has_value());
    EXPECT_EQ(stop.timeout->count(), 2500);
}

TEST(ControlProtocol, bad_requests_say_what_is_wrong)
{
    EXPECT_EQ(refused("not json"), "expected one JSON object per line");
    EXPECT_EQ(refused("[1]"), "expected one JSON object per line");
    EXPECT_EQ(refused(R"({"cmd":"status"})"), "expected \"command\": a string");
    EXPECT_EQ(refused(R"({"command":"frob"})"), "unknown command \"frob\"");
    EXPECT_EQ(refused(R"({"command":"restart"})"), "restart: \"pool\" is required");
    EXPECT_EQ(refused(R"({"command":"scale","pool":"web","workers":0})"),
              "scale: \"workers\" must be an integer from 1 to 10000");
    EXPECT_EQ(refused(R"({"command":"scale","pool":"web","workers":"2"})"),
              "scale: \"workers\" must be an integer from 1 to 10000");
    EXPECT_EQ(refused(R"({"command":"stop","timeout_ms":-1})"),
              "stop: \"timeout_ms\" must be a whole number of milliseconds");
    EXPECT_EQ(refused(R"({"command":"status","pool":""})"), "status: \"pool\" must be a non-empty string");
}

TEST(ControlProtocol, answers_carry_ok_and_error_codes)
{
    EXPECT_EQ(success({{"pool", "web"}}), json({{"ok", true}, {"pool", "web"}}));
    const json failed = failure(ErrorCode::UnknownPool, "no pool named x", {"a"});
    EXPECT_EQ(failed["ok"], false);
    EXPECT_EQ(failed["error"], "unknown_pool");
    EXPECT_EQ(failed["errors"], json::array({"a"}));
    for (const ErrorCode code : {ErrorCode::BadRequest, ErrorCode::UnknownPool, ErrorCode::Failed}) {
        EXPECT_EQ(errorCodeFromString(toString(code)), code);
    }
    EXPECT_FALSE(errorCodeFromString("nope").has_value());
}

TEST(PoolResize, dynamic_spare_bounds_shrink_to_fit_a_lower_max_children)
{
    manager::PoolConfig config;
    config.pm = manager::ProcessManager::Dynamic;
    config.max_children = 10;
    config.min_spare_servers = 3;
    config.max_spare_servers = 6;
    config.start_servers = 4;
    const auto down = manager::withMaxChildren(config, 2);
    EXPECT_EQ(down.max_children, 2);
    EXPECT_EQ(down.min_spare_servers, 2);
    EXPECT_EQ(down.max_spare_servers, 2);
    EXPECT_EQ(down.start_servers, 2);
    const auto up = manager::withMaxChildren(config, 20);
    EXPECT_EQ(up.max_children, 20);
    EXPECT_EQ(up.min_spare_servers, 3);
    EXPECT_EQ(up.max_spare_servers, 6);
    EXPECT_EQ(up.start_servers, 4);
}

TEST(StatusTable, pools_and_workers_line_up_in_columns)
{
    const json answer = json::parse(R"({"ok":true,"pools":[{"name":"web","pm":"static","state":"running",
        "idle_workers":1,"busy_workers":1,"total_workers":2,"max_children":2,"listen_queue":-1,
        "accepted_conn":12,"max_children_reached":0,"slow_requests":0,"recycles_total":0,"restarts":1,
        "workers_detail":[
          {"pid":41,"state":"ready","activity":"busy","requests":7,"request_method":"GET",
           "request_uri":"/sleep?ms=300","request_duration_ms":1500,"rss_bytes":25165824},
          {"pid":4200,"state":"stopping","activity":"idle","requests":5,"request_method":"",
           "request_uri":"","request_duration_ms":3,"rss_bytes":0}]}]})");
    EXPECT_EQ(ctl::formatStatus(answer, false),
              "POOL  PM      STATE    IDLE  BUSY  TOTAL  MAX  QUEUE  ACCEPTED  MAX-REACHED  SLOW  RECYCLES  RESTARTS\n"
              "web   static  running  1     1     2      2    -      12        0            0     0         1\n");
    const std::string full = ctl::formatStatus(answer, true);
    EXPECT_NE(full.find("POOL  PID   STATE     REQUESTS  FOR   RSS      REQUEST\n"
                        "web   41    busy      7         1.5s  24.0MiB  GET /sleep?ms=300\n"
                        "web   4200  stopping  5         3ms   -        -\n"),
              std::string::npos)
        << full;
}

TEST(StatusTable, durations_and_sizes_read_like_people_write_them)
{
    EXPECT_EQ(ctl::formatMillis(250), "250ms");
    EXPECT_EQ(ctl::formatMillis(1500), "1.5s");
    EXPECT_EQ(ctl::formatMillis(125'000), "2m5s");
    EXPECT_EQ(ctl::formatBytes(512), "512B");
    EXPECT_EQ(ctl::formatBytes(1536), "1.5KiB");
    EXPECT_EQ(ctl::formatBytes(0), "-");
}

}  // namespace
}  // namespace pyfpm::control
