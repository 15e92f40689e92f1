package agentapi

import (
	"net/http"
	"strconv"

	"github.com/pajarito-care/pajarito/shared/httpjson"
	"github.com/pajarito-care/pajarito/shared/queue"
)

// DLQList is the body of GET /v1/dlq.
type DLQList struct {
	// Queues are the dead-letter queues, by their source queue's name (inbound,
	// outbound), with what they hold and, in AWS, their latest move task.
	Queues []queue.Depth `json:"queues"`
}

// DLQRedriveRequest is the body of POST /v1/dlq/redrive.
type DLQRedriveRequest struct {
	// Queue is inbound, outbound or all.
	Queue string `json:"queue"`
}

// DLQRedriveResult is the answer of POST /v1/dlq/redrive.
type DLQRedriveResult struct {
	Queues []DLQRedriven `json:"queues"`
}

// DLQRedriven is what the redrive of one dead-letter queue did.
type DLQRedriven struct {
	queue.Redriven
	// Error says that this queue's redrive failed (logged) after Moved messages;
	// the rest stays in the dead-letter queue.
	Error string `json:"error,omitempty"`
}

// listDLQ shows what the dead-letter queues hold.
func (a *API) listDLQ(w http.ResponseWriter, r *http.Request) {
	if _, ok := query(w, r); !ok {
		return
	}
	ds, err := a.DeadLetters.Depths(r.Context())
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if ds == nil {
		ds = []queue.Depth{}
	}
	httpjson.Write(w, http.StatusOK, DLQList{Queues: ds})
}

// redriveDLQ moves the messages of dead-letter queues back to their source
// queues, once what failed them is fixed: in AWS by starting SQS's move task (or
// reporting the one running), locally by moving them. A queue whose redrive fails
// says so in its entry; the others are still done.
func (a *API) redriveDLQ(w http.ResponseWriter, r *http.Request) {
	var req DLQRedriveRequest
	if !decode(w, r, &req) {
		return
	}
	var names []string
	switch req.Queue {
	case QueueInbound, QueueOutbound:
		names = []string{req.Queue}
	case "all":
		names = []string{QueueInbound, QueueOutbound}
	default:
		badRequest(w, "bad_queue", "queue must be %s, %s or all, not %q", QueueInbound, QueueOutbound, req.Queue)
		return
	}
	res := DLQRedriveResult{Queues: []DLQRedriven{}}
	for _, name := range names {
		d, err := a.DeadLetters.Redrive(r.Context(), name)
		out := DLQRedriven{Redriven: d}
		out.Queue = name
		if err != nil {
			a.Log.ErrorContext(r.Context(), "agent API: redrive failed", "queue", name, "moved", d.Moved, "error", err.Error())
			out.Error = "the redrive of the " + name + " dead-letter queue failed after moving " + strconv.Itoa(d.Moved) + " messages (logged); the rest stays there: try again"
		}
		a.audit(r, "dead letters redriven", "queue", name, "method", d.Method, "depth_before", d.DepthBefore, "moved", d.Moved, "already_running", d.AlreadyRunning, "failed", err != nil)
		res.Queues = append(res.Queues, out)
	}
	httpjson.Write(w, http.StatusOK, res)
}
