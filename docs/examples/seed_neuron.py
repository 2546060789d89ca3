import dagprop

g = dagprop.Graph()
x1, x2 = g.constant(0.5), g.constant(0.6)
w1, w2, b = g.parameter(0.1, name="w1"), g.parameter(0.2, name="w2"), g.parameter(0.3, name="b")
a = dagprop.relu(w1 * x1 + w2 * x2 + b)  # 0.47
g.backward(a)                            # dw1 = 0.5, dw2 = 0.6, db = 1
print(f"a = {a.item():.2f}, dw1 = {w1.grad:.2f}, dw2 = {w2.grad:.2f}, db = {b.grad:.2f}")
