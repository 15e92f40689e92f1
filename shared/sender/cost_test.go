package sender_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pajarito-care/pajarito/shared/sender"
	"github.com/pajarito-care/pajarito/shared/store"
)

// BenchmarkReplyCost sends one public reply per case, as the reply function does
// (claim, send budget, X call, outbound message appended to the case, spend), and
// reports what each reply costs on DynamoDB, in read and write units. The X call
// goes to the project's fake; storing the customer's post before each reply is the
// processor's cost and is not counted.
func BenchmarkReplyCost(b *testing.B) {
	e := newEnv(b)
	meter := &store.CapacityMeter{API: e.st.Client}
	e.st.Client = meter
	var reads, writes, written float64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		post, caseID := e.customerPost(fmt.Sprintf("@PajaritoAir my bag did not arrive in Madrid (%d)", i))
		e.clk.Advance(time.Minute)
		// X refuses duplicate content: each reply is its own.
		req := agentReply(caseID, post, fmt.Sprintf("draft-%d", i), fmt.Sprintf("@mariagv_viajes Thanks for telling us. We're tracing bag %d now. ^Ana", i))
		msg := message(b, fmt.Sprintf("m%d", i), req, 1)
		r0, w0 := meter.Units()
		bytes0 := meter.Bytes()
		b.StartTimer()
		failed := e.deliver(msg)
		b.StopTimer()
		if out := e.lastOutcome(fmt.Sprintf("m%d", i)); len(failed) != 0 || out.Outcome != sender.OutcomeSent {
			b.Fatalf("reply %d not sent: %+v", i, out)
		}
		r1, w1 := meter.Units()
		reads, writes, written = reads+r1-r0, writes+w1-w0, written+float64(meter.Bytes()-bytes0)
		b.StartTimer()
	}
	b.ReportMetric(written/float64(b.N), "written-B/op")
	b.ReportMetric(writes/float64(b.N), "WCU/op")
	b.ReportMetric(reads/float64(b.N), "RCU/op")
}
