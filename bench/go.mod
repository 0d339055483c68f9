module github.com/gosignals/signals/bench

go 1.26

require github.com/gosignals/signals v0.0.0

require github.com/wcharczuk/go-incr v1.4.13

replace github.com/gosignals/signals => ../
