// The app shell for offline use: same-origin GETs outside /api and /socket.io are served from the
// network when it answers and from the cache when it does not, so a reload while offline still
// opens the app (with its queued commands and saved rooms).
const CACHE = 'workroom-shell-v1';

self.addEventListener('install', (event) => {
  // The shell and the hashed assets index.html names, so the app starts without the network.
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const html = await (await fetch('/index.html', { cache: 'no-store' })).text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll(['/', '/index.html', ...assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/socket.io')) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          void caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(request)
          .then(
            (hit) =>
              hit ??
              (request.mode === 'navigate' ? caches.match('/index.html') : undefined) ??
              Response.error(),
          ),
      ),
  );
});
