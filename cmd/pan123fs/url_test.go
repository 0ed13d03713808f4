package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURLCommand(t *testing.T) {
	url := startEmulator(t)
	m := startMount(t, url)
	sh(t, m.mnt, "echo img > cat.png && echo img2 > 'a b.png'")
	link := remoteTree(t, checker(t, url))["cat.png"].DownloadURL
	assert.Equal(t, link+"\n", sh(t, m.mnt, binary+" url cat.png"))
	assert.Equal(t, "![cat.png]("+link+")\n", sh(t, m.mnt, binary+" url --format markdown cat.png"))
	assert.Equal(t, `<img src="`+link+`" alt="cat.png">`+"\n", sh(t, m.mnt, binary+" url --format html cat.png"))
	assert.Len(t, strings.Fields(sh(t, m.mnt, binary+" url cat.png 'a b.png'")), 2)
	assert.Contains(t, shErr(t, m.mnt, binary+" url /etc/hostname"), "no link")
}
