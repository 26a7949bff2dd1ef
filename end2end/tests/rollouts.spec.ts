import { test, expect, Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, signInAsAdmin, watchErrors } from './support';

const password = 'rollout-e2e-password-1';

/** A short plan the team saved: Planning (an operator approves, four eyes), Preparation,
 * Internal Testing with a health check and a smoke test, Full Rollout, Monitoring. */
const quickPlan = {
  phases: [
    { name: 'Planning', kind: 'planning', gates: [{ type: 'approval', role: 'operator', fourEyes: true }] },
    { name: 'Preparation', kind: 'preparation' },
    {
      name: 'Internal Testing', kind: 'exposure', bakeSeconds: 30,
      audience: { segments: ['internal'], trafficPercent: 50 },
      gates: [
        { type: 'healthCheck', path: '/healthz', times: 2, timeoutSeconds: 20 },
        { type: 'smokeTest', requests: [{ path: '/', status: 200, bodyContains: 'ok' }] },
      ],
    },
    { name: 'Full Rollout', kind: 'full', gates: [{ type: 'healthCheck', path: '/healthz', times: 2, timeoutSeconds: 20 }] },
    { name: 'Monitoring', kind: 'monitoring', bakeSeconds: 2 },
  ],
};

async function as(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, username, password);
  await expect(page.getByTestId('signed-in-user')).toHaveText(username);
  return page;
}

test('a product manager plans a rollout in the form, an operator approves it, and the timeline shows it complete', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signInAsAdmin(page);
  for (const [username, role] of [['pm-e2e', 'product-manager'], ['ops-e2e', 'operator']]) {
    const res = await page.request.post('/api/v1/users', { data: { username, password, role } });
    expect(res.status(), await res.text()).toBe(201);
  }
  const flag = await page.request.post('/api/v1/flags', {
    data: {
      key: 'e2e-new-cart', name: 'New cart', valueType: 'boolean',
      variants: [{ name: 'on', value: true }, { name: 'off', value: false }],
      environments: { staging: { enabled: false, defaultVariant: 'on', offVariant: 'off' } },
    },
  });
  expect(flag.status(), await flag.text()).toBe(201);
  const saved = await page.request.put('/api/v1/plan-templates/e2e-quick', {
    data: { description: 'Staff first, then everyone', plan: quickPlan },
  });
  expect(saved.status(), await saved.text()).toBe(200);

  // The product manager plans it.
  const pm = await as(browser, 'pm-e2e');
  const errors = watchErrors(pm);
  await pm.goto('/rollouts/new?env=staging');
  const form = pm.getByTestId('plan-form');
  await expect(form.getByLabel('Environment')).toHaveValue('staging');
  await form.getByLabel('Title', { exact: true }).fill('New cart for staging');
  await form.getByLabel('App', { exact: true }).selectOption('storefront');
  await form.getByLabel('New version').fill('v2');
  await form.getByLabel('New cart (e2e-new-cart)').check();
  await form.getByLabel('Copy the plan from').selectOption('e2e-quick');
  await expect(pm.getByTestId('phase-2')).toContainText('Internal Testing');
  await expect(pm.getByTestId('estimate')).toContainText('waits for Approval by an operator');

  // A share that shrinks is named next to its field, and submitting waits until it is fixed.
  const traffic = pm.getByTestId('phase-2').getByLabel('% of traffic to the canary');
  await traffic.fill('150');
  await expect(pm.getByTestId('phase-2').getByText('a share between 0 and 100 percent, not 150')).toBeVisible();
  await expect(form.getByRole('button', { name: 'Submit and start' })).toBeDisabled();
  await traffic.fill('50');
  await expect(pm.getByTestId('plan-ok')).toBeVisible();
  // The bake time edited in place moves the estimate.
  await pm.getByTestId('phase-2').getByLabel('Bake time (s)').fill('3');
  await expect(pm.getByTestId('estimate')).toContainText('At least');
  await form.getByRole('button', { name: 'Submit and start' }).click();
  await expect(pm).toHaveURL(/\/rollouts\/\d+$/);
  const url = pm.url();
  await expect(pm.getByTestId('stop-0')).toContainText('waiting for approval', { timeout: 20_000 });
  await expect(pm.getByTestId('rollout-controls')).toContainText('Waiting for approval by an operator or above');

  // The operator finds it waiting on the Overview and approves it.
  const ops = await as(browser, 'ops-e2e');
  const opsErrors = watchErrors(ops);
  await ops.goto('/');
  const waiting = ops.getByTestId('overview-approvals');
  await expect(waiting).toContainText('New cart for staging');
  await waiting.getByRole('link', { name: /New cart for staging/ }).click();
  await expect(ops).toHaveURL(url);
  await ops.getByLabel(/Comment or reason/).fill('Plan reviewed, go ahead');
  await ops.getByRole('button', { name: 'Approve' }).click();

  // Both watch it run to the end without reloading.
  await expect(ops.getByTestId('rollout-outcome')).toContainText('Succeeded', { timeout: 90_000 });
  await expect(pm.getByTestId('rollout-outcome')).toContainText('Succeeded', { timeout: 20_000 });
  const timeline = pm.getByTestId('phase-timeline');
  for (const stop of ['Planning', 'Preparation', 'Internal Testing', 'Full Rollout', 'Monitoring']) {
    await expect(timeline.getByRole('listitem').filter({ hasText: stop }).first()).toContainText('✓ passed');
  }
  await expect(timeline).toContainText('approved by ops-e2e (operator): Plan reviewed, go ahead');
  await expect(timeline).toContainText('Smoke test passed');
  await expect(pm.getByTestId('exposed')).toContainText('100%');
  const status = await pm.request.get('/api/v1/flags/e2e-new-cart');
  const targeting = (await status.json()).environments.staging;
  expect(targeting.enabled).toBe(true);
  expect(errors).toEqual([]);
  expect(opsErrors).toEqual([]);

  for (const p of [pm, ops]) {
    const axe = await new AxeBuilder({ page: p }).analyze();
    expect(axe.violations.map((v) => v.id)).toEqual([]);
  }
});

test('the planning form and the rollouts list have no accessibility violations', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAsAdmin(page);
  for (const url of ['/rollouts', '/rollouts/new?env=staging']) {
    await page.goto(url);
    await page.waitForLoadState('networkidle');
    const axe = await new AxeBuilder({ page }).analyze();
    expect(axe.violations.map((v) => `${url}: ${v.id}`)).toEqual([]);
  }
});
