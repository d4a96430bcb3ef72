// The one translation unit that compiles Boost.Asio and Boost.Beast
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION): everything else includes
// only their declarations, so their heavy templates are built once, not in every file that uses
// them. The server side (target service, control API) links ts_asio; the load client's hot path
// does not use Asio (see load/worker.hpp). Asio's SSL layer (the outbound client's https) too.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
