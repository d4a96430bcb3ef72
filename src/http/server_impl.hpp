#pragma once
// Private to the http module: what its other units (the async client) need of a Server.
#include <boost/asio/io_context.hpp>

#include "http/server.hpp"

namespace trafficsim::http {

Server::Impl& server_impl(Server& server);
boost::asio::io_context& server_io_context(Server& server);

}  // namespace trafficsim::http
