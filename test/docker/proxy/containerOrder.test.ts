/**
 * ContainerOrder: a start holds its container's queue, so that an exit that arrives before the start's postStart ran
 * is reported after it; other containers are not held.
 */
import { expect, it } from "vitest";
import { ContainerOrder } from "../../../src/docker/proxy/containerOrder.js";

it("runs an exit queued while a start holds the container after the start's postStart", async () => {
  const order = new ContainerOrder();
  const seen: string[] = [];
  const slot = order.hold("a");
  const exit = order.run("a", async () => void seen.push("onExit"));
  await new Promise((r) => setTimeout(r, 20));
  expect(seen).toEqual([]);
  slot.release(async () => void seen.push("postStart"));
  await exit;
  expect(seen).toEqual(["postStart", "onExit"]);
});

it("does not hold other containers' calls behind a start", async () => {
  const order = new ContainerOrder();
  const seen: string[] = [];
  const slot = order.hold("a");
  await order.run("b", async () => void seen.push("b onExit"));
  expect(seen).toEqual(["b onExit"]);
  slot.release();
  await order.idle();
});

it("goes on with the queue after a call that failed", async () => {
  const order = new ContainerOrder();
  const seen: string[] = [];
  void order.run("a", () => Promise.reject(new Error("plugin host failed")));
  await order.run("a", async () => void seen.push("next"));
  expect(seen).toEqual(["next"]);
});
