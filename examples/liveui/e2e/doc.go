// Package e2e tests the live UI example (examples/liveui) end to end: it
// builds and starts the real program and drives it with headless Chromium
// through chromedp. It is a module of its own so that chromedp stays out of
// the main module's dependencies.
//
//	cd examples/liveui/e2e && go test ./...
//
// The test needs Debian's chromium package (/usr/bin/chromium); without it
// the test is skipped, unless the environment variable CI is set. Set
// LIVEUI_SCREENSHOTS to a directory to keep the screenshots it takes.
package e2e
