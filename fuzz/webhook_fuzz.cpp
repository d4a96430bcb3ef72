// POST /api/v1/alerts/webhook bodies (Alertmanager's v4 payload): parsed or refused with an
// ApiError naming a field, never a crash; an accepted notification respects the documented
// bound on alerts.
#include <variant>

#include "fuzz_support.hpp"
#include "incidents/alertmanager_webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = trafficsim::incidents::parse_alertmanager_webhook(fuzz_text(data, size));
  if (auto* n = std::get_if<trafficsim::incidents::AlertmanagerNotification>(&r))
    TS_FUZZ_CHECK(n->alerts.size() <= trafficsim::incidents::kMaxAlertmanagerWebhookAlerts);
  else
    TS_FUZZ_CHECK(!std::get<trafficsim::http::ApiError>(r).message.empty());
  return 0;
}
