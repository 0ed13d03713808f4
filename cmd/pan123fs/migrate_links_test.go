package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const samplePost = "# Trip\n" +
	"![cat](https://old.example/img/cat.png)\n" +
	"![dog](<https://old.example/dog 1.jpg> \"a dog\") and a [page](https://old.example/page.html)\n" +
	"![owl][o] and ![Fox]\n" +
	"<img class=\"x\" src=\"https://old.example/a.gif?w=1&amp;h=2\"> <IMG SRC='https://old.example/b.webp'>\n" +
	"![local](img/local.png) ![inline data](data:image/png;base64,AAAA)\n" +
	"`![code](https://old.example/code.png)`\n" +
	"```md\n![fenced](https://old.example/fenced.png)\n```\n" +
	"\n[o]: https://old.example/owl.png \"owl\"\n" +
	"[fox]: <https://old.example/fox.png>\n" +
	"[site]: https://old.example/\n"

func TestFindImageLinks(t *testing.T) {
	var urls []string
	for _, l := range findImageLinks(samplePost) {
		urls = append(urls, l.url)
	}
	assert.Equal(t, []string{
		"https://old.example/img/cat.png",
		"https://old.example/dog 1.jpg",
		"https://old.example/a.gif?w=1&h=2",
		"https://old.example/b.webp",
		"https://old.example/owl.png",
		"https://old.example/fox.png",
	}, urls, "inline (<...> too), HTML (unescaped) and used references; not page links, relative or data: links, code, or unused definitions")
}

func TestRewriteLinksKeepsEverythingElse(t *testing.T) {
	links := findImageLinks(samplePost)
	out, n := rewriteLinks(samplePost, links, map[string]string{
		"https://old.example/img/cat.png":   "https://vip.123pan.cn/1/10.png",
		"https://old.example/a.gif?w=1&h=2": "https://vip.123pan.cn/1/11.gif?x=1&y=2",
		"https://old.example/owl.png":       "https://vip.123pan.cn/1/12.png",
		"https://old.example/fox.png":       "https://vip.123pan.cn/1/13.png",
	})
	require.Equal(t, 4, n)
	want := "# Trip\n" +
		"![cat](https://vip.123pan.cn/1/10.png)\n" +
		"![dog](<https://old.example/dog 1.jpg> \"a dog\") and a [page](https://old.example/page.html)\n" +
		"![owl][o] and ![Fox]\n" +
		"<img class=\"x\" src=\"https://vip.123pan.cn/1/11.gif?x=1&amp;y=2\"> <IMG SRC='https://old.example/b.webp'>\n" +
		"![local](img/local.png) ![inline data](data:image/png;base64,AAAA)\n" +
		"`![code](https://old.example/code.png)`\n" +
		"```md\n![fenced](https://old.example/fenced.png)\n```\n" +
		"\n[o]: https://vip.123pan.cn/1/12.png \"owl\"\n" +
		"[fox]: <https://vip.123pan.cn/1/13.png>\n" +
		"[site]: https://old.example/\n"
	assert.Equal(t, want, out)
}

func TestHostSet(t *testing.T) {
	h := newHostSet([]string{"img.myblog.example"})
	assert.True(t, h.has("https://vip.123pan.cn/1/2.png"))
	assert.True(t, h.has("https://img.myblog.example/x.png"))
	assert.False(t, h.has("http://127.0.0.1:8080/x.png"))
	h.add("http://127.0.0.1:8080/dl/1.png")
	assert.True(t, h.has("http://127.0.0.1:8080/x.png"))
	assert.False(t, h.has("http://127.0.0.1:9090/x.png"), "another port is another host")
}
