package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is where Debian's chromium package puts the browser.
const chromium = "/usr/bin/chromium"

// wait bounds each wait for the page or the program.
const wait = 15 * time.Second

func TestLiveUIInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install Debian's chromium package: %v", chromium, err)
		}
		t.Skipf("%s is missing: install Debian's chromium package to run this test", chromium)
	}
	shots := os.Getenv("LIVEUI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	app := startLiveUI(t)
	t.Logf("built and started the program in %v: %s", time.Since(start).Round(time.Millisecond), app.base)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless, // --headless
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), // a fresh profile
		chromedp.WindowSize(1000, 720),
	)
	allocCtx, closeAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer closeAlloc()
	// The first context owns the browser: canceling it would close the
	// browser, so the tabs are children of it, closed one by one.
	browser, closeBrowser := chromedp.NewContext(allocCtx)
	defer closeBrowser()
	start = time.Now()
	do(t, browser)
	t.Logf("started Chromium in %v", time.Since(start).Round(time.Millisecond))

	// Tab 1 connects and shows the initial state.
	tab1, closeTab1 := chromedp.NewContext(browser)
	defer closeTab1()
	do(t, tab1, chromedp.Navigate(app.base+"/"))
	waitText(t, tab1, "#status", "live")
	waitText(t, tab1, "#count", "0")
	waitText(t, tab1, "#clients", "1 tab")

	// Tab 2 connects; tab 1 sees it arrive. The mark set in tab 2 would
	// be lost by a reload, so finding it at the end shows that the page
	// changed by the events alone.
	tab2, closeTab2 := chromedp.NewContext(browser)
	defer closeTab2()
	do(t, tab2, chromedp.Navigate(app.base+"/"), chromedp.Evaluate[chromedp.Void](`window.mark = 'not reloaded'`))
	waitText(t, tab2, "#count", "0")
	waitText(t, tab2, "#clients", "2 tabs")
	waitText(t, tab1, "#clients", "2 tabs")

	// A click in tab 1 updates tab 1, and tab 2 without reloading.
	do(t, tab1, chromedp.Click(chromedp.ID("inc")))
	waitText(t, tab1, "#count", "1")
	waitText(t, tab2, "#count", "1")
	waitText(t, tab2, "#doubled", "2")
	do(t, tab1, chromedp.Click(chromedp.ID("inc")), chromedp.Click(chromedp.ID("inc")), chromedp.Click(chromedp.ID("dec")))
	waitText(t, tab2, "#count", "2")
	waitText(t, tab1, "#count", "2")

	// And the other way round, with the trending list.
	for _, id := range []string{"view-3", "view-1", "view-3", "view-5", "view-3", "view-1"} {
		do(t, tab2, chromedp.Click(chromedp.ID(id)))
	}
	waitText(t, tab1, "#total", "6")
	waitText(t, tab1, "#top", "cherries (3)apples (2)elderberries (1)")
	waitText(t, tab2, "#top", "cherries (3)apples (2)elderberries (1)")
	mark, err := chromedp.Run(tab2, chromedp.Evaluate[string](`window.mark`))
	if err != nil || mark != "not reloaded" {
		t.Errorf("tab 2 was reloaded: window.mark = %q, %v", mark, err)
	}
	screenshot(t, tab1, filepath.Join(shots, "liveui.png"))
	screenshot(t, tab2, filepath.Join(shots, "liveui-tab2.png"))

	// Closing tab 1 ends its stream: its scope gives its place back, and
	// the server keeps one subscription, tab 2's.
	closeTab1()
	waitText(t, tab2, "#clients", "1 tab")
	if n := app.liveEffects(t); n != 1 {
		t.Errorf("after tab 1 closed, %d live effects, want 1 (tab 2's)", n)
	}

	// The debug page draws the graph, tab 2's subscription included.
	debug, closeDebug := chromedp.NewContext(browser)
	defer closeDebug()
	do(t, debug, chromedp.Navigate(app.base+"/debug/signals/"), chromedp.WaitVisible(chromedp.CSS("svg")))
	svg, err := chromedp.Run(debug, chromedp.OuterHTML(chromedp.CSS("svg")))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"count", "clients", "views of cherries", "doubled", "items", "top 3", "total views", "page", "sse client"} {
		if !strings.Contains(svg, ">"+name+"<") {
			t.Errorf("the debug page's drawing has no node %q", name)
		}
	}
	if n := strings.Count(svg, ">sse client<"); n != 1 {
		t.Errorf("the drawing has %d sse client effects, want 1", n)
	}
	screenshot(t, debug, filepath.Join(shots, "debug.png"))

	// With the browser gone, nothing is left subscribed, and an interrupt
	// stops the program cleanly.
	closeBrowser()
	deadline := time.Now().Add(wait)
	for app.liveEffects(t) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the streams' effects outlived the browser")
		}
		time.Sleep(20 * time.Millisecond)
	}
	app.interrupt(t)
	t.Logf("screenshots in %s", shots)
}

// liveUI is the example program, running.
type liveUI struct {
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	exited chan error
	stderr *lockedBuffer
}

// startLiveUI builds the program from the repository root and starts it on
// a port of the kernel's choice, which it prints.
func startLiveUI(t *testing.T) *liveUI {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "liveui")
	build := exec.Command("go", "build", "-o", bin, "github.com/gosignals/signals/examples/liveui")
	build.Dir = filepath.Join("..", "..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	app := &liveUI{cmd: exec.Command(bin, "-addr", "127.0.0.1:0"), exited: make(chan error, 1), stderr: &lockedBuffer{}}
	app.cmd.Stderr = app.stderr
	stdout, err := app.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		app.cmd.Process.Kill() // if interrupt was not reached
		<-app.exited
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		app.exited <- app.cmd.Wait() // after the pipe is drained, as Wait requires
	}()
	select {
	case line := <-lines:
		m := regexp.MustCompile(`^serving the live UI on (http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unexpected first line %q", line)
		}
		app.base = m[1]
	case <-time.After(wait):
		t.Fatalf("the program printed no address; stderr:\n%s", app.stderr)
	}
	return app
}

// liveEffects counts the effects of the graph that are not stopped, as the
// debug page's JSON lists them.
func (app *liveUI) liveEffects(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(app.base + "/debug/signals/graph.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var nodes []struct {
		Kind    string
		Stopped bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, node := range nodes {
		if node.Kind == "effect" && !node.Stopped {
			n++
		}
	}
	return n
}

// interrupt sends SIGINT and expects the program to exit 0 promptly.
func (app *liveUI) interrupt(t *testing.T) {
	t.Helper()
	if err := app.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-app.exited:
		app.exited <- err // for the cleanup
		if err != nil {
			t.Errorf("after SIGINT: %v; stderr:\n%s", err, app.stderr)
		}
	case <-time.After(wait):
		t.Errorf("the program did not exit after SIGINT")
	}
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitText waits until the text of the element sel is want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	text := fmt.Sprintf(`document.querySelector(%s)?.textContent`, jsString(sel))
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](text+" === "+jsString(want),
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(wait)))
	if err != nil {
		got, err2 := chromedp.Run(ctx, chromedp.Evaluate[string](text+` ?? "(no such element)"`))
		t.Fatalf("%s: want text %q, have %q: %v", sel, want, got, errors.Join(err, err2))
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// lockedBuffer collects a program's stderr while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
