import { test, expect, Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAsAdmin, watchErrors } from './support';

const password = 'change-requests-password';

/** A signed-in page of its own for `username`. */
async function pageOf(browser: Browser, username: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, username, password);
  await expect(page.getByTestId('signed-in-user')).toHaveText(username);
  return page;
}

test('a developer asks to switch a flag on in production; an operator reviews the diff and approves it', async ({ page, browser }) => {
  const errors = watchErrors(page);
  await signInAsAdmin(page);
  for (const [username, role] of [['cr-dev', 'developer'], ['cr-ops', 'operator']]) {
    const res = await page.request.post('/api/v1/users', { data: { username, password, role } });
    expect(res.status(), await res.text()).toBe(201);
  }
  const flag = await page.request.post('/api/v1/flags', { data: {
    key: 'e2e-protected', name: 'E2E protected', valueType: 'boolean',
    variants: [{ name: 'on', value: true }, { name: 'off', value: false }],
  } });
  expect(flag.status(), await flag.text()).toBe(201);

  // The developer's switch in production is refused, and offers a request instead.
  const dev = await pageOf(browser, 'cr-dev');
  await dev.goto('/flags');
  await dev.waitForLoadState('networkidle');
  const sw = dev.getByRole('switch', { name: 'e2e-protected in Production' });
  await sw.click();
  await expect(dev.getByRole('alert').filter({ hasText: 'Production is protected' })).toBeVisible();
  await expect(sw).toHaveAttribute('aria-checked', 'false');
  await dev.getByLabel('What is it for?').fill('Open the new checkout to everyone');
  await dev.getByRole('button', { name: 'Request approval' }).click();
  await expect(dev.getByRole('status').filter({ hasText: /Change request #\d+ is waiting for review/ })).toBeVisible();

  // The requester cannot approve it.
  await dev.goto('/changes');
  await dev.waitForLoadState('networkidle');
  const own = dev.getByRole('article', { name: 'Open the new checkout to everyone' });
  await expect(own.getByRole('button', { name: 'Withdraw' })).toBeVisible();
  await expect(own.getByRole('button', { name: 'Approve and apply' })).toHaveCount(0);

  // The operator sees it on the Overview, reads the diff, approves: it applies at once.
  const ops = await pageOf(browser, 'cr-ops');
  const opsErrors = watchErrors(ops);
  await expect(ops.getByRole('region', { name: /1 change request waiting for your review/ })).toContainText('Open the new checkout to everyone');
  await ops.setViewportSize({ width: 1440, height: 900 });
  await ops.screenshot({ path: '../docs/screenshots/overview-change-request.png', fullPage: true });
  await ops.getByRole('link', { name: 'Review them →' }).click();
  await ops.waitForLoadState('networkidle');
  const card = ops.getByRole('article', { name: 'Open the new checkout to everyone' });
  await expect(card.getByLabel('Changes')).toContainText('"enabled": true');
  await expect(card).toContainText('asked by cr-dev');
  await ops.screenshot({ path: '../docs/screenshots/change-request-review.png', fullPage: true });
  await ops.setViewportSize({ width: 375, height: 800 });
  await ops.screenshot({ path: '../docs/screenshots/change-request-review-375.png', fullPage: true });
  const axe = await new AxeBuilder({ page: ops }).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await card.getByLabel('Comment (optional)').fill('Error rate is flat in staging.');
  await card.getByRole('button', { name: 'Approve and apply' }).click();
  await ops.getByRole('button', { name: 'All' }).click();
  const applied = ops.getByRole('article', { name: 'Open the new checkout to everyone' });
  await expect(applied).toContainText('Approved and applied by cr-ops');
  await expect(applied).toContainText(/flag e2e-protected saved as version 2/);
  await ops.goto('/flags');
  await expect(ops.getByRole('switch', { name: 'e2e-protected in Production' })).toHaveAttribute('aria-checked', 'true');

  // The admin sets the policy on the Environments page.
  await page.goto('/settings/environments');
  await page.waitForLoadState('networkidle');
  await expect(page.getByLabel('Protected').nth(2)).toBeChecked();
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.screenshot({ path: '../docs/screenshots/environments-protection.png', fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: '../docs/screenshots/environments-protection-375.png', fullPage: true });
  expect([...errors, ...opsErrors]).toEqual([]);
});
