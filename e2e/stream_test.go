package e2e

import (
	"testing"
	"time"
)

// TestEventSourceStreams: an EventSource through the proxy gets each event
// when the upstream sends it. The upstream holds the second event back until
// the test has seen the first one in the page, so a proxy that buffered the
// stream would fail here.
func TestEventSourceStreams(t *testing.T) {
	ctx := openPage(t, startPage(t))
	up := startUpstream(t)
	p := startProxy(t, allowUpstream)

	eval[bool](t, ctx, `(() => {
		window.sse = { events: [], errors: 0 };
		const es = new EventSource(`+jsString(p.URL+"/"+up.URL+"/events")+`);
		es.onmessage = (e) => {
			sse.events.push({ id: e.lastEventId, data: e.data });
			if (sse.events.length === 2) es.close();
		};
		es.onerror = () => { sse.errors++; };
		return true;
	})()`)

	waitFor(t, ctx, "the first event in the page", `sse.events.length >= 1`, 10*time.Second)
	select {
	case <-up.sent2:
		t.Fatal("the upstream sent the second event before it was released")
	default:
	}
	if n := eval[int](t, ctx, `sse.events.length`); n != 1 {
		t.Fatalf("page has %d events before the second was sent, want 1", n)
	}

	close(up.release)
	waitFor(t, ctx, "the second event in the page", `sse.events.length >= 2`, 10*time.Second)

	type event struct {
		ID   string `json:"id"`
		Data string `json:"data"`
	}
	got := eval[[]event](t, ctx, `sse.events`)
	want := []event{{"1", "one"}, {"2", "two"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("page got events %+v, want %+v", got, want)
	}
	if n := eval[int](t, ctx, `sse.errors`); n != 0 {
		t.Errorf("EventSource reported %d errors", n)
	}
	if n := len(up.requests("/events")); n != 1 {
		t.Errorf("upstream got %d connections for /events, want 1 (no reconnects)", n)
	}
}
