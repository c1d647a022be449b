// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core, with the flags this
// machine needs (no sandbox as root, no background networking on a closed network) and
// autoplay without a user gesture. Shared by the browser tests' scripts.
const { chromium } = require('playwright-core');

function launch(userDataDir, extraArgs = []) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
}

module.exports = { launch };
