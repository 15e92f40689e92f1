package agentapi

import (
	"net"
	"net/http"
	"strings"

	"github.com/pajarito-care/pajarito/shared/httpjson"
)

// getHealth runs the operator's checks of the deployment (package health) with
// the function's own permissions and returns the report: 200 whatever the
// checks found (the report's status says it), so that pajarito doctor and a
// monitor read the same findings.
func (a *API) getHealth(w http.ResponseWriter, r *http.Request) {
	if _, ok := query(w, r); !ok {
		return
	}
	if a.Health == nil {
		httpjson.WriteError(w, http.StatusNotImplemented, "health_not_configured", "this deployment's agent API was built without its health checks")
		return
	}
	c := *a.Health
	if c.WebhookURL == "" {
		c.WebhookURL = webhookURL(r)
	}
	httpjson.Write(w, http.StatusOK, c.Run(r.Context()))
}

// webhookURL is the X webhook's URL on the origin r came to: the stack serves
// the webhook and the agent API on one HTTP API. https, except on a loopback
// host (the local system).
func webhookURL(r *http.Request) string {
	scheme := "https"
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		scheme = "http"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + strings.TrimSuffix(r.Host, "/") + "/webhooks/x"
}
